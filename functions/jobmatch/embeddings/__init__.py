"""Embeddings: the providers, the model the stored vectors come from, the text of
each entity and the rows that need a vector."""
