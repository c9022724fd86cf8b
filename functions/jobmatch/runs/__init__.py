"""Records of the app's background runs: progress a client follows, job logs admins read."""
