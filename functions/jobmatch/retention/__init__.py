"""How jobs age out: expiry (live jobs past 30 days lose their matches) and the
daily cleanup (expired jobs past retention, and match data nobody uses)."""
