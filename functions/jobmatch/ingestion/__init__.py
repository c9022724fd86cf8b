"""Jobs from public job boards (Ashby, Greenhouse, Lever): companies, board clients,
and postings normalised into the import path."""
