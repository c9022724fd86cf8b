"""Jobs from public job boards (Ashby, Greenhouse, Lever): companies, board clients,
postings normalised into the import path, and company discovery from Common Crawl."""
