"""Engagement: users registering, applying, viewing, giving feedback and changing
their preferences, and the preference signals the matching engine ranks by."""
