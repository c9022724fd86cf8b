"""Preference signals: what applications, views and feedback teach about a user.

Each action on a job moves the user's weight of the job's skills, role and
company (`scoring.signal_keys`) by the action's weight times the kind's factor;
the matching engine adds the summed weights of a job's keys to its score
(`scoring.affinity_component`, capped), so jobs like the ones a user applied to,
liked or studied rise, and jobs like the disliked ones sink. A job lists several
skills and only one role and company, hence the smaller skill factor. Every
weight stays within +-`WEIGHT_LIMIT`, so no single key can dominate for ever.

Callers change weights only once per fact (an application inserted for the first
time, a feedback that changed, a view batch not recorded before), so the one
upsert here needs no idempotency of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import PreferenceSignal
from jobmatch.matching import store as repo
from jobmatch.matching.scoring import signal_keys

APPLY = 3.0
LIKE = 2.0
DISLIKE = -2.0
VIEW = 0.5  # per significant view
KIND_FACTOR = {"skill": 0.5, "role": 1.0, "company": 1.0}
WEIGHT_LIMIT = 10.0
FEEDBACK_WEIGHT = {"like": LIKE, "dislike": DISLIKE, None: 0.0}


def adjust(session: Session, deltas: Mapping[tuple[int, int], float]) -> int:
    """Move the weights of (user, job) pairs' keys by the given amounts, in one
    statement; how many weights changed."""
    jobs = repo.load_jobs(session, {job_id for _, job_id in deltas})
    moves: dict[tuple[int, str, str], float] = defaultdict(float)
    for (user_id, job_id), delta in deltas.items():
        job = jobs.get(job_id)
        if job is None or not delta:
            continue
        for kind, value in signal_keys(job):
            moves[(user_id, kind, value)] += delta * KIND_FACTOR[kind]
    if not moves:
        return 0
    rows = [
        {"user_id": u, "kind": k, "value": v, "weight": _clamp(w)}
        for (u, k, v), w in sorted(moves.items())
    ]
    stmt = insert(PreferenceSignal).values(rows)
    summed = PreferenceSignal.weight + stmt.excluded.weight
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "kind", "value"],
            set_={
                "weight": func.least(func.greatest(summed, -WEIGHT_LIMIT), WEIGHT_LIMIT),
                "updated_at": func.now(),
            },
        )
    )
    return len(rows)


def _clamp(weight: float) -> float:
    return max(-WEIGHT_LIMIT, min(WEIGHT_LIMIT, weight))
