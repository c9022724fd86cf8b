"""Skills: the taxonomy (names, aliases, categories, vectors) and the skill tags
extracted from jobs."""
