"""Cutting a set of ids into ranges for fan-out events, in one query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def id_ranges(
    session: Session, ids_sql: str, params: dict[str, Any], every: int
) -> tuple[int, list[list[int | None]]]:
    """How many ids `ids_sql` (a SELECT with an `id` column) gives, and the ranges
    `[after, upto]` (`after < id <= upto`, the last one open: upto None) holding
    `every` of them each. Ranges, not id lists, travel in events and step outputs,
    so they stay small however many ids there are."""
    row = session.execute(
        text(f"""
            SELECT count(*) AS n,
                   array_remove(array_agg(CASE WHEN rn % :every = 0 AND rn < total
                                               THEN id END ORDER BY id), NULL) AS cuts
            FROM (
                SELECT s.id, row_number() OVER (ORDER BY s.id) AS rn, count(*) OVER () AS total
                FROM ({ids_sql}) s
            ) ranked
        """),
        params | {"every": every},
    ).one()
    if not row.n:
        return 0, []
    cuts = [int(c) for c in row.cuts or []]
    return int(row.n), [[a, b] for a, b in zip([0, *cuts], [*cuts, None], strict=True)]
