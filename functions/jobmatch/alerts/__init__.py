"""Emails users get about jobs: typed notifications, the daily digest at 9 AM in
each user's time zone, and alerts when a batch of new jobs fits them."""
