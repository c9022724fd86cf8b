"""The alerts store: who is due a digest or an alert, the digest log, the alert
records, the jobs an email lists, and cutting recipients into id ranges.

Who may be mailed at all is not decided here: every read of recipients adds
`mail.store.may_mail` (suppressed addresses, opt-outs of the category).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    Select,
    and_,
    case,
    cast,
    column,
    delete,
    exists,
    extract,
    func,
    literal,
    null,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, insert

from jobmatch.db.models import DigestLog, Job, NewJobAlert, User, UserMatch
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.mail.store import may_mail
from jobmatch.mail.templates import JobLine
from jobmatch.matching.store import excluded_jobs

# `[after, upto]`: the users `after < id <= upto` (the last range open: upto None).
IdRange = tuple[int, int | None]

_TIME_ZONES = table("pg_timezone_names", column("name"))


@dataclass(frozen=True)
class Recipient:
    """Whom a user email goes to."""

    user_id: int
    email: str
    name: str | None


@dataclass(frozen=True)
class DueUser:
    """A user due a digest, and the local date it is for."""

    user_id: int
    premium: bool
    local_date: date


def recipient(uow: UnitOfWork, user_id: int) -> Recipient | None:
    """The user as an email addresses them; None when there is no such user."""
    row = uow.execute(select(User.email, User.name).where(User.id == user_id)).first()
    return None if row is None else Recipient(user_id, row.email, row.name)


def id_ranges(uow: UnitOfWork, ids: Select[Any], every: int) -> tuple[int, list[IdRange]]:
    """How many ids `ids` (a SELECT with an `id` column) gives, and the ranges
    `[after, upto]` holding `every` of them each, in one query. Ranges, not id
    lists, travel in events and step outputs, so they stay small however many ids
    there are."""
    s = ids.subquery()
    ranked = select(
        s.c.id,
        func.row_number().over(order_by=s.c.id).label("rn"),
        func.count().over().label("total"),
    ).subquery()
    cut = case((and_(ranked.c.rn % every == 0, ranked.c.rn < ranked.c.total), ranked.c.id))
    row = uow.execute(
        select(
            func.count().label("n"),
            func.array_remove(func.array_agg(aggregate_order_by(cut, ranked.c.id)), null()).label(
                "cuts"
            ),
        )
    ).one()
    if not row.n:
        return 0, []
    cuts = [int(c) for c in row.cuts or []]
    return int(row.n), list(zip([0, *cuts], [*cuts, None], strict=True))


def _due(as_of: datetime, hour: int) -> Select[Any]:
    """Users due a digest at `as_of`, with their local date: their zone's local time
    is `hour`:xx, no digest for that date yet, mailable, and matches stored since
    their last digest."""
    moment = literal(as_of, DateTime(timezone=True))
    local = func.timezone(_TIME_ZONES.c.name, moment)
    zones = (
        select(_TIME_ZONES.c.name, cast(local, Date).label("local_date"))
        .where(extract("hour", local) == hour)
        .cte("zones")
    )
    last_digest = (
        select(func.max(DigestLog.created_at))
        .where(DigestLog.user_id == User.id)
        .correlate_except(DigestLog)  # users is two levels up: name it
        .scalar_subquery()
    )
    since = func.coalesce(last_digest, literal("-infinity", DateTime(timezone=True)))
    return (
        select(User.id, User.is_premium, zones.c.local_date)
        .join(zones, zones.c.name == User.timezone)
        .where(
            ~exists().where(
                DigestLog.user_id == User.id, DigestLog.digest_date == zones.c.local_date
            ),
            may_mail(User.id, User.email, "digest"),
            exists().where(UserMatch.user_email == User.email, UserMatch.created_at > since),
        )
    )


def digest_ranges(
    uow: UnitOfWork, as_of: datetime, hour: int, every: int
) -> tuple[int, list[IdRange]]:
    """How many users are due a digest at `as_of`, and id ranges of `every` of them."""
    return id_ranges(uow, _due(as_of, hour), every)


def due_users(
    uow: UnitOfWork, as_of: datetime, hour: int, after: int, upto: int | None
) -> list[DueUser]:
    """The users `after < id <= upto` due a digest at `as_of`, by id."""
    query = _due(as_of, hour).where(User.id > after)
    if upto is not None:
        query = query.where(User.id <= upto)
    return [
        DueUser(int(r.id), bool(r.is_premium), r.local_date)
        for r in uow.execute(query.order_by(User.id))
    ]


def digest_logged(uow: UnitOfWork, user_id: int, day: date) -> bool:
    """Whether the user's digest for `day` was logged (sent or being sent)."""
    return bool(
        uow.scalar(
            select(exists().where(DigestLog.user_id == user_id, DigestLog.digest_date == day))
        )
    )


def last_digest_at(uow: UnitOfWork, user_id: int) -> datetime | None:
    """When the user's last digest was logged."""
    return uow.scalar(select(func.max(DigestLog.created_at)).where(DigestLog.user_id == user_id))


def log_digest(uow: UnitOfWork, user_id: int, day: date, job_count: int) -> bool:
    """Log the user's digest for `day`; False when a concurrent try logged it first."""
    logged = uow.scalar(
        insert(DigestLog)
        .values(user_id=user_id, digest_date=day, job_count=job_count)
        .on_conflict_do_nothing(index_elements=["user_id", "digest_date"])
        .returning(DigestLog.id)
    )
    return logged is not None


# The batch's jobs fitting each user by role (names and aliases; GIN index on
# `user_preferences.roles`), minus the jobs the user applied to or disliked, at most
# :max_jobs per user.
_FITS = text("""
    WITH batch AS (
        SELECT j.id, j.normalized_role_id AS role_id FROM jobs j
        WHERE j.id = ANY(CAST(:job_ids AS bigint[])) AND j.status = 'active'
          AND j.normalized_role_id IS NOT NULL
    ), labels AS (
        SELECT r.id AS role_id,
               unnest(array_cat(r.aliases, ARRAY[r.name, r.id::text])) AS label
        FROM global_roles r WHERE r.id IN (SELECT role_id FROM batch)
    ), fits AS (
        SELECT DISTINCT p.user_id, b.id AS job_id
        FROM labels l
        JOIN user_preferences p ON p.roles && ARRAY[lower(l.label)]
        JOIN batch b ON b.role_id = l.role_id
    )
    SELECT f.user_id, (array_agg(f.job_id ORDER BY f.job_id))[1:CAST(:max_jobs AS int)] AS job_ids
    FROM fits f
    WHERE NOT EXISTS (
        SELECT 1 FROM user_excluded_jobs x WHERE x.user_id = f.user_id AND x.job_id = f.job_id)
    GROUP BY f.user_id
""")


def record_recipients(uow: UnitOfWork, batch_id: str, job_ids: Sequence[int], max_jobs: int) -> int:
    """Record who is alerted about which of the batch's jobs (one statement): the
    mailable users whose preferred roles the jobs have; how many in all."""
    fits = (
        _FITS.bindparams(job_ids=list(job_ids), max_jobs=max_jobs)
        .columns(user_id=Integer, job_ids=ARRAY(BigInteger))
        .subquery("fit")
    )
    uow.execute(
        insert(NewJobAlert)
        .from_select(
            ["batch_id", "user_id", "job_ids"],
            select(literal(batch_id), fits.c.user_id, fits.c.job_ids)
            .join(User, User.id == fits.c.user_id)
            .where(may_mail(User.id, User.email, "new_jobs")),
        )
        .on_conflict_do_nothing(index_elements=["batch_id", "user_id"])
    )
    return int(
        uow.scalar(
            select(func.count()).select_from(NewJobAlert).where(NewJobAlert.batch_id == batch_id)
        )
        or 0
    )


def alert_ranges(uow: UnitOfWork, batch_id: str, every: int) -> list[IdRange]:
    """Id ranges of the batch's recipients, `every` each."""
    ids = select(NewJobAlert.user_id.label("id")).where(NewJobAlert.batch_id == batch_id)
    return id_ranges(uow, ids, every)[1]


def alerts_in(
    uow: UnitOfWork, batch_id: str, after: int, upto: int | None
) -> list[tuple[Recipient, list[int]]]:
    """The batch's recipients `after < user_id <= upto`, by id, with their jobs."""
    query = (
        select(NewJobAlert.job_ids, User.id, User.email, User.name)
        .join(User, User.id == NewJobAlert.user_id)
        .where(NewJobAlert.batch_id == batch_id, NewJobAlert.user_id > after)
        .order_by(NewJobAlert.user_id)
    )
    if upto is not None:
        query = query.where(NewJobAlert.user_id <= upto)
    return [(Recipient(int(r.id), r.email, r.name), list(r.job_ids)) for r in uow.execute(query)]


def _lines(uow: UnitOfWork, job_ids: Sequence[int], *where: Any) -> dict[int, JobLine]:
    """The active ones of the jobs meeting `where`, as an email lists them, by id."""
    rows = uow.execute(
        select(Job.id, Job.title, Job.company, Job.location, Job.external_url).where(
            Job.id.in_(list(job_ids)), Job.status == "active", *where
        )
    )
    return {r.id: JobLine(r.title, r.company, r.location, r.external_url) for r in rows}


def active_job_lines(uow: UnitOfWork, job_ids: Sequence[int]) -> dict[int, JobLine]:
    """The active ones of the jobs, as an email lists them, by id (one query)."""
    return _lines(uow, job_ids)


def job_lines(uow: UnitOfWork, user_id: int, job_ids: Sequence[int]) -> list[JobLine]:
    """The jobs as an email lists them, in the given order: active ones the user
    has not applied to or disliked (one query)."""
    by_id = _lines(uow, job_ids, Job.id.not_in(excluded_jobs(user_id)))
    return [by_id[j] for j in dict.fromkeys(job_ids) if j in by_id]


def prune_alerts(uow: UnitOfWork, before: datetime) -> int:
    """Forget who was alerted about batches recorded before `before`; how many rows."""
    result = uow.execute(delete(NewJobAlert).where(NewJobAlert.created_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
