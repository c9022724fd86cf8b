"""The external scraper's work queue: roles to scrape, scraper sessions and their heartbeats."""
