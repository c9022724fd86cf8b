"""Postings of the three public job-board APIs, turned into the import path's
`JobInput` with the provider as `source` and the provider's posting id as
`external_id`, so a posting has the same `job_hash` whether a board fetch or the
scraper brought it (one job, one row).

Each provider's posting is validated on the fields we read, with their JSON types
(a posting whose id, title, dates, locations or pay have the wrong shape is
*malformed*: skipped and counted, never fatal to the board). Postings that are
well-formed but not openings (Ashby's unlisted ones, Greenhouse's "prospect"
posts) are *excluded* and counted apart.

Salary: only yearly amounts are kept; hourly, weekly or monthly pay leaves the
salary empty. Converting (hourly x 2080) assumes full-time hours, which the
contract, part-time and intern postings that quote hourly rates are not, so a
converted figure would mislead the salary score more than no figure does.
Ashby amounts are kept only where the employer publishes them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)
from pydantic.alias_generators import to_camel

from jobmatch.ingestion.countries import country_code
from jobmatch.ingestion.html_text import html_to_text, tidy
from jobmatch.jobs.importing import JobInput
from jobmatch.safe_input import strip_unstorable

# The import route's limits, so a board job fits the same columns.
MAX_TITLE, MAX_COMPANY, MAX_LOCATION, MAX_URL = 300, 200, 200, 1000
MAX_DESCRIPTION = 20_000
MAX_SALARY = 10_000_000
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_REMOTE = re.compile(r"\bremote\b", re.I)
_NOT_YEARLY = re.compile(r"hour|month|week|day|daily", re.I)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value


Title = Annotated[StrictStr, AfterValidator(_not_blank)]


class _Shape(BaseModel):
    """Fields we read, with their JSON types; everything else is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class _CamelShape(_Shape):
    """A shape of an API that names its fields in camelCase (Ashby, Lever): read by
    their camelCase aliases, named in snake_case here."""

    model_config = ConfigDict(alias_generator=to_camel)


@dataclass
class BoardPostings:
    """A board's postings: the jobs, what was skipped, and the external ids of every
    posting still on the board (malformed ones included, so that a posting that
    turns malformed is not taken for one that left)."""

    jobs: list[JobInput] = field(default_factory=list)
    malformed: int = 0
    excluded: int = 0
    seen_ids: list[str] = field(default_factory=list)


def _cut(text: str | None, limit: int) -> str:
    return strip_unstorable(text or "").strip()[:limit]


def _salary(
    low: float | None, high: float | None, currency: str | None
) -> tuple[int | None, int | None, str | None]:
    """A yearly range as the jobs table keeps it, or nothing when it is unusable."""
    if low is None and high is None:
        return None, None, None
    lo, hi = (round(v) if v is not None else None for v in (low, high))
    bad = any(v is not None and not 0 < v <= MAX_SALARY for v in (lo, hi))
    if bad or (lo is not None and hi is not None and lo > hi):
        return None, None, None
    code = currency.upper() if currency and re.fullmatch(r"[A-Za-z]{3}", currency) else None
    return lo, hi, code


def _day(value: datetime | None) -> date | None:
    return value.astimezone(UTC).date() if value is not None else None


def collect(
    items: Any, convert: Callable[[Any], JobInput | None], raw_id: Callable[[Any], str | None]
) -> BoardPostings:
    """Convert each posting; count the malformed (ValidationError/ValueError) and the
    excluded (`convert` gave None)."""
    out = BoardPostings()
    for item in items:
        try:
            job = convert(item)
        except (ValidationError, ValueError, OverflowError):
            out.malformed += 1
            seen = raw_id(item)
            if seen:
                out.seen_ids.append(seen)
            continue
        if job is None:
            out.excluded += 1
        else:
            out.jobs.append(job)
            out.seen_ids.append(str(job.external_id))
    return out


def _id_of(item: Any, key: str = "id") -> str | None:
    value = item.get(key) if isinstance(item, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


# --------------------------------------------------------------------------- Ashby
class _PostalAddress(_CamelShape):
    address_country: StrictStr | None = None


class _Address(_CamelShape):
    postal_address: _PostalAddress | None = None


class _SecondaryLocation(_CamelShape):
    location: StrictStr | None = None


class _Component(_CamelShape):
    compensation_type: StrictStr | None = None
    interval: StrictStr | None = None
    currency_code: StrictStr | None = None
    min_value: StrictFloat | None = None
    max_value: StrictFloat | None = None


class _Tier(_CamelShape):
    components: list[_Component] = []


class _Compensation(_CamelShape):
    compensation_tiers: list[_Tier] = []
    summary_components: list[_Component] = []


class AshbyPosting(_CamelShape):
    """One element of `jobs` in Ashby's posting API."""

    id: StrictStr | None = None
    title: Title
    location: StrictStr | None = None
    secondary_locations: list[_SecondaryLocation] = []
    address: _Address | None = None
    is_listed: StrictBool | None = None
    is_remote: StrictBool | None = None
    workplace_type: StrictStr | None = None
    published_at: datetime | None = None
    description_plain: StrictStr | None = None
    description_html: StrictStr | None = None
    job_url: StrictStr | None = None
    should_display_compensation_on_job_postings: StrictBool | None = None
    compensation: _Compensation | None = None


def ashby_job(item: Any, company: str) -> JobInput | None:
    """An Ashby posting as a job; None for an unlisted one."""
    p = AshbyPosting.model_validate(item)
    found = _UUID.search(p.job_url or "")
    external_id = p.id or (found.group(0) if found else None)
    if not external_id:
        raise ValueError("no id and no id in jobUrl")
    if p.is_listed is False:
        return None
    remote = p.workplace_type == "Remote" if p.workplace_type else p.is_remote is True
    salary: tuple[int | None, int | None, str | None] = (None, None, None)
    if p.compensation and p.should_display_compensation_on_job_postings:
        yearly = [
            c
            for c in p.compensation.summary_components
            if c.compensation_type == "Salary" and c.interval == "1 YEAR"
        ]
        if yearly:
            salary = _salary(yearly[0].min_value, yearly[0].max_value, yearly[0].currency_code)
    postal = p.address.postal_address if p.address else None
    description = p.description_plain or html_to_text(p.description_html or "")
    return JobInput(
        source="ashby",
        external_id=_cut(external_id, 200),
        title=_cut(p.title, MAX_TITLE),
        company=_cut(company, MAX_COMPANY),
        location=_cut(p.location, MAX_LOCATION),
        country=country_code(postal.address_country if postal else None),
        remote=remote,
        salary_min=salary[0],
        salary_max=salary[1],
        currency=salary[2],
        description=tidy(description)[:MAX_DESCRIPTION],
        external_url=_cut(p.job_url, MAX_URL) or None,
        posted_date=_day(p.published_at),
    )


def ashby_postings(body: Any, company: str) -> BoardPostings | None:
    """All postings of an Ashby board response, or None if it is not one."""
    jobs = body.get("jobs") if isinstance(body, dict) else None
    if not isinstance(jobs, list):
        return None
    return collect(jobs, lambda item: ashby_job(item, company), _id_of)


# ---------------------------------------------------------------------- Greenhouse
class _Named(_Shape):
    name: StrictStr | None = None


class _Office(_Shape):
    name: StrictStr | None = None
    location: StrictStr | None = None


class _Metadata(_Shape):
    name: StrictStr | None = None
    value_type: StrictStr | None = None
    value: Any = None


class GreenhousePosting(_Shape):
    """One element of `jobs` in Greenhouse's job board API (`content=true`)."""

    id: StrictInt
    internal_job_id: StrictInt | None = None
    title: Title
    company_name: StrictStr | None = None
    absolute_url: StrictStr | None = None
    location: _Named | None = None
    offices: list[_Office] = []
    departments: list[_Named] = []
    metadata: list[_Metadata] | None = None
    content: StrictStr | None = None
    first_published: datetime | None = None
    updated_at: datetime | None = None


def _number(value: Any) -> float | None:
    """A metadata amount: Greenhouse sends them as strings ("150000.0")."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _greenhouse_salary(meta: Iterable[_Metadata]) -> tuple[int | None, int | None, str | None]:
    """A `currency_range` custom field, taken as yearly unless its name says otherwise.
    The list endpoint has no other structured pay."""
    for m in meta:
        if m.value_type != "currency_range" or not isinstance(m.value, dict):
            continue
        if _NOT_YEARLY.search(m.name or ""):
            continue
        unit = m.value.get("unit")
        return _salary(
            _number(m.value.get("min_value")),
            _number(m.value.get("max_value")),
            unit if isinstance(unit, str) else None,
        )
    return None, None, None


def _greenhouse_remote(p: GreenhousePosting) -> bool:
    names = [p.location.name if p.location else None, *(o.name for o in p.offices)]
    if any(_REMOTE.search(n) for n in names if n):
        return True
    for m in p.metadata or []:
        values = m.value if isinstance(m.value, list) else [m.value]
        workplace = (m.name or "").lower() in ("workplace type", "location type", "remote")
        if workplace and any(isinstance(v, str) and _REMOTE.search(v) for v in values):
            return True
    return False


def greenhouse_job(item: Any, company: str) -> JobInput | None:
    """A Greenhouse post as a job; None for a prospect post (no job behind it)."""
    p = GreenhousePosting.model_validate(item)
    if p.internal_job_id is None:
        return None
    country = next(
        (c for o in p.offices if o.location and (c := country_code(o.location.split(",")[-1]))),
        None,
    )
    salary = _greenhouse_salary(p.metadata or [])
    return JobInput(
        source="greenhouse",
        external_id=str(p.id),
        title=_cut(p.title, MAX_TITLE),
        company=_cut(p.company_name or company, MAX_COMPANY),
        location=_cut(p.location.name if p.location else "", MAX_LOCATION),
        country=country,
        remote=_greenhouse_remote(p),
        salary_min=salary[0],
        salary_max=salary[1],
        currency=salary[2],
        description=html_to_text(html.unescape(p.content or ""))[:MAX_DESCRIPTION],
        external_url=_cut(p.absolute_url, MAX_URL) or None,
        posted_date=_day(p.first_published or p.updated_at),
    )


def greenhouse_postings(body: Any, company: str) -> BoardPostings | None:
    """All postings of a Greenhouse board response, or None if it is not one."""
    jobs = body.get("jobs") if isinstance(body, dict) else None
    if not isinstance(jobs, list):
        return None
    return collect(jobs, lambda item: greenhouse_job(item, company), _id_of)


# --------------------------------------------------------------------------- Lever
class _Categories(_CamelShape):
    location: StrictStr | None = None
    all_locations: list[StrictStr] = []


class _ListBlock(_CamelShape):
    text: StrictStr = ""
    content: StrictStr = ""


class _SalaryRange(_CamelShape):
    currency: StrictStr | None = None
    interval: StrictStr | None = None
    min: StrictFloat | None = None
    max: StrictFloat | None = None


class LeverPosting(_CamelShape):
    """One element of Lever's postings array (`mode=json`)."""

    id: StrictStr
    text: Title
    hosted_url: StrictStr
    categories: _Categories | None = None
    country: StrictStr | None = None
    workplace_type: StrictStr | None = None
    created_at: StrictInt | None = None  # epoch milliseconds
    description_plain: StrictStr = ""
    lists: list[_ListBlock] = []
    additional_plain: StrictStr = ""
    salary_range: _SalaryRange | None = None


def lever_job(item: Any, company: str) -> JobInput:
    """A Lever posting as a job."""
    p = LeverPosting.model_validate(item)
    sections = [p.description_plain]
    for block in p.lists:
        sections.append(f"{block.text}\n{html_to_text(block.content)}")
    sections.append(p.additional_plain)
    pay = p.salary_range
    salary: tuple[int | None, int | None, str | None] = (None, None, None)
    if pay and pay.interval == "per-year-salary":
        salary = _salary(pay.min, pay.max, pay.currency)
    created = p.created_at
    posted = datetime.fromtimestamp(created / 1000, UTC).date() if created is not None else None
    country = p.country.upper() if p.country and re.fullmatch(r"[A-Za-z]{2}", p.country) else None
    return JobInput(
        source="lever",
        external_id=_cut(p.id, 200),
        title=_cut(p.text, MAX_TITLE),
        company=_cut(company, MAX_COMPANY),
        location=_cut(p.categories.location if p.categories else "", MAX_LOCATION),
        country=country,
        remote=(p.workplace_type or "").lower() == "remote",
        salary_min=salary[0],
        salary_max=salary[1],
        currency=salary[2],
        description=tidy("\n\n".join(s for s in sections if s.strip()))[:MAX_DESCRIPTION],
        external_url=_cut(p.hosted_url, MAX_URL),
        posted_date=posted,
    )


def lever_postings(body: Any, company: str) -> BoardPostings | None:
    """All postings of one Lever page (a bare array), or None if it is not one."""
    if not isinstance(body, list):
        return None
    return collect(body, lambda item: lever_job(item, company), _id_of)
