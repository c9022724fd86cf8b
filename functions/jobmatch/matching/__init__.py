"""Matching: the scoring engine (`scoring`), its SQL side (`repository`) and the
operations the Inngest functions and routes call (`service`)."""
