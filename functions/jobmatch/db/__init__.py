"""Data access: models, the one engine per container, sessions and migrations."""
