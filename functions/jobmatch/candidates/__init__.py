"""A tenant's candidates: the rows their matching starts from, tenant-scoped."""
