"""The HTTP API: routers stay thin, validate, and delegate to plain functions."""
