"""Free-signup users: signup and its confirmation, preferences, batch requests."""
