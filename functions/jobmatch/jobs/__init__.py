"""Jobs: the door they come in by (one import path for every source) and their rows."""
