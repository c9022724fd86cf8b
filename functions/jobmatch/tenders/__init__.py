"""Public tenders: the OCDS client, compiled tender state, enrichment and alerts."""
