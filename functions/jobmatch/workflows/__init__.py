"""Inngest: the client, typed events and every durable function."""
