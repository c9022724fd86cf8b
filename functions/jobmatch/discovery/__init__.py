"""Company discovery: job boards found in Common Crawl's index, by host, page by page."""
