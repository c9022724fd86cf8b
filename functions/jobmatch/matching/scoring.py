"""The one scoring engine: pure functions, no database, no network.

A pair (profile, job) scores 0-100 as a weighted sum of five components, each
0-100: skills, experience, location (remote / city / country), salary and the
semantic similarity of their embeddings (cosine, computed by pgvector in SQL and
passed in, kept as 100 * max(0, cosine)). Pairs scoring >= 50 are stored and >= 70
recommended.
Candidates (tenants) and free-signup users are both a `ProfileFeatures`, so every
matching path scores the same way.

A job reaches candidates through its roles (`job_roles`): the few roles its title
resolved to, and the best one's family. The role fit scales the total: 1 for a
candidate preferring the job's best role, the ratio of similarities for one of its
close seconds, `FAMILY_FACTOR` for a candidate who prefers only a related role
(parent, child or sibling occupation), so near roles meet but rank lower and need
a strong fit elsewhere to be stored. A job whose title resolved to no role meets
profiles with roles by similarity alone: such a pair is kept only when the two
vectors are at least `SIMILARITY_ONLY_FLOOR` alike, and scaled by how alike they
are (from `SIMILARITY_ONLY_MIN_FIT` at the floor to 1), with a reason that says so.
A profile without roles is matched by similarity as before (nothing else exists
to match it on).

A user's learnt preferences (`ProfileFeatures.affinity`: weights of skills, roles
and companies, from applications, views and feedback, capped at `AFFINITY_CAP`
points) move a pair's total toward 100, or toward 0, by a share of the room left
there (at most half of it), so they re-order close matches without overriding fit
and without pinning strong matches at 100, where ties would hide the order; jobs
the user applied to or disliked (`excluded_job_ids`) are not scored at all. Candidates have neither.

Features are built once per row (sets, lower-cased strings), so scoring a batch
is a tight loop over pairs with no per-pair parsing or allocation beyond the result.

A match has one shape: the fields `StoredScores` names are called the same in
`MatchResult`, in both match tables and in the API's read model, and
`stored_fields` is the one mapping between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol

STORE_THRESHOLD = 50.0
RECOMMEND_THRESHOLD = 70.0
WEIGHTS = {"skill": 0.35, "experience": 0.15, "location": 0.15, "salary": 0.10, "semantic": 0.25}
MAX_LISTED_SKILLS = 10
NEUTRAL = 50.0  # a component nobody stated anything about neither helps nor sinks a pair
AFFINITY_CAP = 10.0  # learnt preference points; at the cap a total moves half its room
FAMILY_FACTOR = 0.65  # a related occupation: stored only when the rest fits well (>= 77)
# No role links the pair: calibrated on the training half of bench/role_quality_bench.py
# (it prints the table). Of the 10 nearest candidates of a held-out title, those at
# 0.7 or more were its own occupation's 0.32 times per job against 0.44 others; at
# 0.65, 0.45 against 1.58; at 0.6, 0.58 against 3.46. At the floor the total is
# scaled by the minimum fit.
SIMILARITY_ONLY_FLOOR = 0.7
SIMILARITY_ONLY_MIN_FIT = 0.7


def _norm_set(values: Iterable[str] | None) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in values or () if v and v.strip())


@dataclass(frozen=True, slots=True)
class JobFeatures:
    """What scoring needs from a job."""

    job_id: int
    job_hash: str
    title: str
    company: str
    skills: tuple[str, ...]
    location: str
    country: str | None
    remote: bool
    salary_min: int | None
    salary_max: int | None
    experience_min: int | None
    role_id: int | None = None
    roles: tuple[tuple[int, float], ...] = ()  # the title's roles and their similarity
    family: frozenset[int] = frozenset()  # the best role's related occupations
    skill_set: frozenset[str] = field(init=False)
    location_key: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "skill_set", _norm_set(self.skills))
        object.__setattr__(self, "location_key", (self.location or "").strip().lower())


@dataclass(frozen=True, slots=True)
class ProfileFeatures:
    """What scoring needs from a candidate or a user's preferences."""

    profile_id: int | None
    skills: frozenset[str]
    experience_years: int | None
    locations: tuple[str, ...]
    countries: frozenset[str]
    remote_ok: bool
    salary_expectation: int | None
    role_ids: tuple[int, ...] = ()
    # Learnt weights by `signal_keys` key, and jobs never to match (users only).
    affinity: Mapping[str, float] = field(default_factory=dict, compare=False)
    excluded_job_ids: frozenset[int] = frozenset()

    @classmethod
    def build(
        cls,
        profile_id: int | None,
        *,
        skills: Iterable[str] | None,
        experience_years: int | None,
        locations: Iterable[str] | None,
        countries: Iterable[str] | None,
        remote_ok: bool,
        salary_expectation: int | None,
        role_ids: Iterable[int] = (),
        affinity: Mapping[str, float] | None = None,
        excluded_job_ids: Iterable[int] = (),
    ) -> ProfileFeatures:
        """Normalise raw values (lower-case, trimmed, de-duplicated) once."""
        return cls(
            profile_id=profile_id,
            skills=_norm_set(skills),
            experience_years=experience_years,
            locations=tuple(sorted(_norm_set(locations))),
            countries=frozenset(c.upper() for c in _norm_set(countries)),
            remote_ok=remote_ok,
            salary_expectation=salary_expectation,
            role_ids=tuple(role_ids),
            affinity=dict(affinity or {}),
            excluded_job_ids=frozenset(excluded_job_ids),
        )


class StoredScores(Protocol):
    """What every form of a match has under the same names: a `MatchResult`, a row
    of `user_matches` or `candidate_job_matches`, and the read model the API shows.
    Every score is 0-100."""

    @property
    def score(self) -> float:
        """The weighted total."""

    @property
    def skill_score(self) -> float:
        """Share of the job's skills the profile has."""

    @property
    def experience_score(self) -> float:
        """Years of experience against the job's minimum."""

    @property
    def location_score(self) -> float:
        """Remote fit, same city or same country."""

    @property
    def salary_score(self) -> float:
        """The job's salary range against the expectation."""

    @property
    def semantic_score(self) -> float:
        """100 * max(0, cosine similarity of the two embeddings)."""

    @property
    def matched_skills(self) -> Sequence[str]:
        """The job's skills the profile has."""

    @property
    def missing_skills(self) -> Sequence[str]:
        """The job's skills the profile lacks (at most ten)."""

    @property
    def reasons(self) -> Sequence[str]:
        """Why, in sentences a person reads."""

    @property
    def is_recommended(self) -> bool:
        """Strong enough to recommend."""


def stored_fields(match: StoredScores) -> dict[str, Any]:
    """The scores of a match by their one set of names (arrays as lists): the
    columns both match tables write, and the fields every reader shows."""
    return {
        "score": match.score,
        "skill_score": match.skill_score,
        "experience_score": match.experience_score,
        "location_score": match.location_score,
        "salary_score": match.salary_score,
        "semantic_score": match.semantic_score,
        "matched_skills": list(match.matched_skills),
        "missing_skills": list(match.missing_skills),
        "reasons": list(match.reasons),
        "is_recommended": match.is_recommended,
    }


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The score of one pair, its components, and why."""

    profile_id: int | None
    job_id: int
    job_hash: str
    score: float
    skill_score: float
    experience_score: float
    location_score: float
    salary_score: float
    semantic_score: float
    matched_skills: tuple[str, ...]
    missing_skills: tuple[str, ...]
    reasons: tuple[str, ...]
    method: str = "rules"

    @property
    def is_recommended(self) -> bool:
        """Strong enough to recommend (>= 70)."""
        return self.score >= RECOMMEND_THRESHOLD

    @property
    def stored(self) -> bool:
        """Strong enough to keep (>= 50)."""
        return self.score >= STORE_THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (step outputs)."""
        return {
            "profile_id": self.profile_id,
            "job_id": self.job_id,
            "job_hash": self.job_hash,
            **stored_fields(self),
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MatchResult:
        """Inverse of `to_dict` (a step reads the previous step's output). Keys that
        are not fields (`is_recommended`, or one an older release wrote into a
        memoised step output) are ignored."""
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        for key in ("matched_skills", "missing_skills", "reasons"):
            values[key] = tuple(values[key])
        return cls(**values)

    def with_ai(self, score: float, reason: str | None) -> MatchResult:
        """This result as re-scored and explained by the LLM."""
        reasons = ((reason,) if reason else ()) + self.reasons
        return replace(
            self, score=round(max(0.0, min(100.0, score)), 1), reasons=reasons, method="ai"
        )


def skill_component(
    profile: ProfileFeatures, job: JobFeatures
) -> tuple[float, list[str], list[str]]:
    """Share of the job's skills the profile has; neutral when the job lists none."""
    if not job.skill_set:
        return NEUTRAL, [], []
    matched = sorted(job.skill_set & profile.skills)
    missing = sorted(job.skill_set - profile.skills)
    return 100.0 * len(matched) / len(job.skill_set), matched, missing


def experience_component(profile: ProfileFeatures, job: JobFeatures) -> float:
    """Full marks at or above the minimum; 25 points off per missing year."""
    if not job.experience_min:
        return 100.0
    if profile.experience_years is None:
        return NEUTRAL
    gap = job.experience_min - profile.experience_years
    return 100.0 if gap <= 0 else max(0.0, 100.0 - 25.0 * gap)


def location_component(profile: ProfileFeatures, job: JobFeatures) -> float:
    """Remote fit, then same city, then same country; neutral without information."""
    if job.remote and profile.remote_ok:
        return 100.0
    if job.location_key and any(
        loc in job.location_key or job.location_key in loc for loc in profile.locations
    ):
        return 100.0
    if job.country and job.country.upper() in profile.countries:
        return 70.0
    if not profile.locations and not profile.countries:
        return NEUTRAL if not job.remote else 80.0
    return 40.0 if job.remote else 10.0


def salary_component(profile: ProfileFeatures, job: JobFeatures) -> float:
    """Full marks when the range reaches the expectation; falls off with the shortfall."""
    top = job.salary_max or job.salary_min
    if not profile.salary_expectation or not top:
        return NEUTRAL + 20.0  # most ads state no salary: do not punish them hard
    if top >= profile.salary_expectation:
        return 100.0
    shortfall = (profile.salary_expectation - top) / profile.salary_expectation
    return max(0.0, 100.0 - 200.0 * shortfall)


def signal_keys(job: JobFeatures) -> list[tuple[str, str]]:
    """The (kind, value) pairs a user's affinity is kept by for this job: its skills,
    its role and its company. What a user does with a job strengthens (or weakens)
    these; scoring reads them back for every job sharing them."""
    keys = [("skill", s) for s in sorted(job.skill_set)]
    if job.role_id is not None:
        keys.append(("role", str(job.role_id)))
    company = " ".join(job.company.lower().split())
    if company:
        keys.append(("company", company[:200]))
    return keys


def affinity_component(profile: ProfileFeatures, job: JobFeatures) -> float:
    """Points the user's learnt preferences add to (or take from) this job, capped."""
    if not profile.affinity:
        return 0.0
    total = sum(profile.affinity.get(f"{kind}:{value}", 0.0) for kind, value in signal_keys(job))
    return max(-AFFINITY_CAP, min(AFFINITY_CAP, total))


def role_fit(profile: ProfileFeatures, job: JobFeatures) -> tuple[float, str | None]:
    """How well the profile's preferred roles fit the job's roles (0-1), and why."""
    preferred = profile.role_ids
    if not preferred or not (job.roles or job.family):
        return 1.0, None
    if job.roles and job.roles[0][0] in preferred:  # the best role: most pairs
        return 1.0, None
    best = job.roles[0][1] if job.roles else 0.0  # stored best first
    fit = max((s for r, s in job.roles if r in preferred), default=None)
    if fit is not None:
        if fit >= best or best <= 0:
            return 1.0, None
        ratio = fit / best
        return ratio, f"Preferred role is a close second for this title ({ratio:.2f})"
    if any(r in job.family for r in preferred):
        return FAMILY_FACTOR, "Related occupation: same family as the job's role (scored lower)"
    return 1.0, None


def similarity_only_fit(similarity: float) -> tuple[float, str]:
    """The fit of a pair no role links: 0 below the floor, else rising with the
    similarity, and the reason that says the pair rests on similarity alone."""
    if similarity < SIMILARITY_ONLY_FLOOR:
        return 0.0, "Similarity alone, below the floor"
    share = (similarity - SIMILARITY_ONLY_FLOOR) / (1.0 - SIMILARITY_ONLY_FLOOR)
    fit = SIMILARITY_ONLY_MIN_FIT + (1.0 - SIMILARITY_ONLY_MIN_FIT) * share
    return fit, f"Matched by similarity alone, no role links them ({similarity:.2f}): less certain"


def with_affinity(weighted: float, affinity: float) -> float:
    """`weighted` moved toward 100 (affinity > 0) or 0 (< 0) by a share of the room
    left: half of it at the cap. A fixed number of points would clamp close strong
    matches to 100 and tie them; a share of the room keeps their order."""
    share = max(-0.5, min(0.5, affinity / (2 * AFFINITY_CAP)))
    room = 100.0 - weighted if share > 0 else weighted
    return max(0.0, min(100.0, weighted + share * room))


def _reasons(
    job: JobFeatures,
    parts: Mapping[str, float],
    matched: Sequence[str],
    missing: Sequence[str],
    similarity: float,
) -> tuple[str, ...]:
    out: list[str] = []
    if job.skill_set:
        shown = ", ".join(matched[:MAX_LISTED_SKILLS])
        out.append(
            f"Has {len(matched)} of {len(job.skill_set)} required skills"
            + (f" ({shown})" if shown else "")
        )
    if missing:
        out.append("Missing: " + ", ".join(missing[:MAX_LISTED_SKILLS]))
    if job.experience_min:
        out.append(
            f"Meets the {job.experience_min}+ years experience requirement"
            if parts["experience"] >= 100.0
            else f"Below the {job.experience_min}+ years experience requirement"
        )
    if parts["location"] >= 100.0:
        out.append("Remote role, open to remote" if job.remote else f"Located in {job.location}")
    elif parts["location"] <= 10.0:
        out.append(f"Location {job.location or 'unknown'} is outside the preferred areas")
    if parts["salary"] >= 100.0:
        out.append("Salary range meets the expectation")
    elif parts["salary"] < 50.0:
        out.append("Salary range is below the expectation")
    if similarity >= 0.5:
        out.append(f"Profile and job description are closely related ({similarity:.2f})")
    if parts["affinity"] >= 1.0:
        out.append("Like jobs you applied to, liked or looked at closely")
    elif parts["affinity"] <= -1.0:
        out.append("Like jobs you disliked")
    return tuple(out)


Scored = tuple[float, dict[str, float], list[str], list[str], float, str | None]


def _components(profile: ProfileFeatures, job: JobFeatures, semantic: float) -> Scored:
    """Total, components, matched and missing skills, clamped similarity, and why
    the role fit scaled the total (if it did)."""
    skill, matched, missing = skill_component(profile, job)
    similarity = max(-1.0, min(1.0, float(semantic)))
    parts = {
        "skill": skill,
        "experience": experience_component(profile, job),
        "location": location_component(profile, job),
        "salary": salary_component(profile, job),
        "semantic": 100.0 * max(0.0, similarity),
    }
    parts["affinity"] = affinity_component(profile, job)
    role_reason: str | None
    if profile.role_ids and job.role_id is None and not (job.roles or job.family):
        # The job's title resolved to no role: the pair rests on similarity alone.
        fit, role_reason = similarity_only_fit(similarity)
    else:
        fit, role_reason = role_fit(profile, job)
    # The role fit scales what the pair is; learnt preferences then nudge the order.
    weighted = fit * sum(WEIGHTS[k] * parts[k] for k in WEIGHTS)
    total = round(with_affinity(weighted, parts["affinity"]), 1)
    return total, parts, matched, missing, similarity, role_reason


def _result(
    profile: ProfileFeatures,
    job: JobFeatures,
    scored: Scored,
) -> MatchResult:
    total, parts, matched, missing, similarity, role_reason = scored
    # The raw cosine only speaks through the reasons; the result keeps its 0-100 form.
    return MatchResult(
        profile_id=profile.profile_id,
        job_id=job.job_id,
        job_hash=job.job_hash,
        score=total,
        skill_score=round(parts["skill"], 1),
        experience_score=round(parts["experience"], 1),
        location_score=round(parts["location"], 1),
        salary_score=round(parts["salary"], 1),
        semantic_score=round(parts["semantic"], 1),
        matched_skills=tuple(matched),
        missing_skills=tuple(missing[:MAX_LISTED_SKILLS]),
        reasons=_reasons(job, parts, matched, missing, similarity)
        + ((role_reason,) if role_reason else ()),
    )


def score(profile: ProfileFeatures, job: JobFeatures, semantic: float) -> MatchResult:
    """Score one pair; `semantic` is the cosine similarity of the two embeddings."""
    return _result(profile, job, _components(profile, job, semantic))


def score_batch(
    profiles: Mapping[int, ProfileFeatures],
    jobs: Mapping[int, JobFeatures],
    pairs: Iterable[tuple[int, int, float]],
    *,
    threshold: float = STORE_THRESHOLD,
) -> list[MatchResult]:
    """Score (profile_id, job_id, similarity) pairs; keep those at or above `threshold`.

    Reasons are only written for pairs that are kept. Pairs whose profile or job
    is absent, or whose job the profile excludes, are skipped (a row deleted
    between the candidate query and scoring simply does not match)."""
    results: list[MatchResult] = []
    for profile_id, job_id, similarity in pairs:
        profile, job = profiles.get(profile_id), jobs.get(job_id)
        if profile is None or job is None or job_id in profile.excluded_job_ids:
            continue
        scored = _components(profile, job, similarity)
        if scored[0] >= threshold:
            results.append(_result(profile, job, scored))
    return results
