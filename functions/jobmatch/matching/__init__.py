"""Matching, the engine: the scoring (`scoring`), candidate generation and the
match rows (`store`, `read_store`), and the operations the steps and routes call
(`service`)."""
