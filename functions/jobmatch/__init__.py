"""jobmatch: the background engine of a job-matching platform."""
