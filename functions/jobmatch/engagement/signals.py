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

from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.engagement import store
from jobmatch.matching import store as repo
from jobmatch.matching.scoring import signal_keys

APPLY = 3.0
LIKE = 2.0
DISLIKE = -2.0
VIEW = 0.5  # per significant view
KIND_FACTOR = {"skill": 0.5, "role": 1.0, "company": 1.0}
WEIGHT_LIMIT = 10.0
FEEDBACK_WEIGHT = {"like": LIKE, "dislike": DISLIKE, None: 0.0}


def adjust(uow: UnitOfWork, deltas: Mapping[tuple[int, int], float]) -> int:
    """Move the weights of (user, job) pairs' keys by the given amounts, in one
    statement; how many weights changed."""
    jobs = repo.load_jobs(uow, {job_id for _, job_id in deltas})
    moves: dict[tuple[int, str, str], float] = defaultdict(float)
    for (user_id, job_id), delta in deltas.items():
        job = jobs.get(job_id)
        if job is None or not delta:
            continue
        for kind, value in signal_keys(job):
            moves[(user_id, kind, value)] += delta * KIND_FACTOR[kind]
    return store.move_signals(uow, moves, WEIGHT_LIMIT)
