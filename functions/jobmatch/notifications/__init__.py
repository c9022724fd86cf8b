"""Telling users something happened: the completion notice of an async signup
(email through `jobmatch.mail`, signed webhook callback)."""
