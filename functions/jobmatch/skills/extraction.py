"""A job's skills: candidate phrases from its text, normalised to the taxonomy.

Offline (AI off, or the LLM failed): the names and aliases the text contains
(`phrases.scan`), plus technical-looking leftovers matched by vector search.
With the LLM (Bedrock Converse, answering one JSON object): the skills it lists
are normalised the same way, by name or alias first and then by vector search;
the text's own exact matches are kept as well. A phrase maps by vector only to
a skill at least `skill_similarity_floor` similar. Each tag carries a confidence
(1.0 for a name, 0.95 for an alias, the similarity for a vector match, times the
LLM's own confidence for its phrases) and how it was found; a skill found twice
keeps its best.

The work is split so that no database connection waits on a model: `plan`
(text and LLM, no connection) gives each job its hits and the phrases that need
a vector; the caller embeds those, looks them up and saves in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobmatch.ai.llm import LLM, LLMUnavailableError
from jobmatch.deadline import Deadline
from jobmatch.observability import logger
from jobmatch.skills.phrases import scan
from jobmatch.skills.taxonomy import SkillIndex

MAX_LLM_SKILLS = 30
MAX_LLM_TEXT = 6_000
SYSTEM_PROMPT = (
    "You extract skills from job postings. Answer with one JSON object and nothing "
    'else: {"skills": [{"name": "<skill>", "confidence": <0..1>}]}. List the '
    "technologies, tools, programming languages, methods and professional skills the "
    "job asks for, each by its usual short name (e.g. PostgreSQL, Kubernetes, "
    f"Scrum), at most {MAX_LLM_SKILLS}. Confidence: how clearly the job requires it."
)


@dataclass(frozen=True)
class Tag:
    """A job's skill tag."""

    skill_id: int
    confidence: float
    source: str


@dataclass
class JobPlan:
    """One job's tags found by name, and the phrases still to search by vector
    (with the confidence factor and source prefix to apply)."""

    job_id: int
    tags: dict[int, Tag] = field(default_factory=dict)
    vector_phrases: list[tuple[str, float, str]] = field(default_factory=list)
    used_llm: bool = False
    llm_failed: bool = False

    def add(self, tag: Tag) -> None:
        """Keep the more confident of two tags for one skill."""
        known = self.tags.get(tag.skill_id)
        if known is None or tag.confidence > known.confidence:
            self.tags[tag.skill_id] = tag


def llm_skills(
    llm: LLM, title: str, description: str, deadline: Deadline | None = None
) -> list[tuple[str, float]]:
    """The skills the LLM reads in the job: (name, confidence). An answer of the
    wrong shape, or none by `deadline`, is an unavailable LLM (the caller falls back)."""
    answer = llm.complete_json(
        SYSTEM_PROMPT,
        f"Title: {title}\n\n{description[:MAX_LLM_TEXT]}",
        max_tokens=600,
        deadline=deadline,
    )
    items = answer.get("skills")
    if not isinstance(items, list):
        raise LLMUnavailableError("the model's answer has no skills list")
    out: list[tuple[str, float]] = []
    for item in items[:MAX_LLM_SKILLS]:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            continue
        raw: Any = item.get("confidence", 0.8) if isinstance(item, dict) else 0.8
        confidence = float(raw) if isinstance(raw, int | float) else 0.8
        out.append((name.strip(), min(1.0, max(0.0, confidence))))
    return out


def plan(
    job_id: int,
    title: str,
    description: str,
    index: SkillIndex,
    llm: LLM | None,
    deadline: Deadline | None = None,
) -> JobPlan:
    """Tags by name for one job, and what is left for vector search; the LLM (if
    any) answers by `deadline` or is done without."""
    result = JobPlan(job_id)
    found = scan(f"{title}\n{description}", index)
    for text_hit in found.hits.values():
        result.add(Tag(text_hit.skill_id, text_hit.confidence, text_hit.how))
    if llm is not None:
        try:
            named = llm_skills(llm, title, description, deadline)
        except LLMUnavailableError as exc:
            logger.warning("skill extraction: LLM unavailable, offline", extra={"error": str(exc)})
            result.llm_failed = True
        else:
            result.used_llm = True
            for phrase, confidence in named:
                named_hit = index.lookup(phrase, free_text=False)
                if named_hit is not None:
                    score = round(confidence * named_hit.confidence, 3)
                    result.add(Tag(named_hit.skill_id, score, f"llm-{named_hit.how}"))
                else:
                    result.vector_phrases.append((phrase, confidence, "llm-vector"))
            return result
    result.vector_phrases.extend((word, 1.0, "vector") for word in found.leftovers)
    return result
