"""Runs of the app's functions as a client sees them: the progress steps record."""
