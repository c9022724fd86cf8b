"""Roles: the occupation taxonomy, job titles resolved to roles by meaning, and the
admin side of both (add a role or an alias, re-resolve, re-embed)."""
