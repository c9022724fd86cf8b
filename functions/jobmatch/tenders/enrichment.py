"""Detailed category of one tender: rules first, the LLM when AI is on, clean fallback.

The LLM sees the title, description and classification and must answer one of our
category keys; any other answer, or any failure, counts as unavailable and the
rule-based category (or "other") is kept. The database session is not held while
the model thinks: read, close, ask, then write in a new session. The model gets
what is left of the step's deadline, less a margin for that write.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from jobmatch.ai.llm import LLM, LLMUnavailableError
from jobmatch.db.models import Tender
from jobmatch.db.session import session_scope
from jobmatch.deadline import Deadline
from jobmatch.failures import legacy_step_body
from jobmatch.tenders.categories import CATEGORIES, rule_category
from jobmatch.tenders.repository import set_category

FALLBACK_CATEGORY = "other"
SYSTEM_PROMPT = (
    "You classify public procurement tenders into exactly one category. "
    'Answer with one JSON object {"category": "<key>"} and nothing else. Keys: '
    + "; ".join(f"{key} = {label}" for key, label in CATEGORIES.items())
)
MAX_PROMPT_TEXT = 1500
# Kept from the step's deadline for writing the category after the model answers.
WRITE_MARGIN_SECONDS = 1.0


@dataclass(frozen=True)
class TenderText:
    """What classification looks at, copied out of the session."""

    ocid: str
    title: str | None
    description: str | None
    scheme: str | None
    code: str | None
    code_description: str | None
    category_source: str | None


def _load(ocid: str) -> TenderText | None:
    with session_scope() as session:
        t = session.scalars(select(Tender).where(Tender.ocid == ocid)).one_or_none()
        if t is None:
            return None
        return TenderText(
            t.ocid,
            t.title,
            t.description,
            t.classification_scheme,
            t.classification_id,
            t.classification_description,
            t.category_source,
        )


def llm_category(llm: LLM, tender: TenderText, deadline: Deadline | None = None) -> str:
    """Ask the model (answering by `deadline`); only one of our keys is an answer."""
    prompt = (
        f"Title: {tender.title or '-'}\n"
        f"Classification: {tender.scheme or '-'} {tender.code or ''} "
        f"{tender.code_description or ''}\n"
        f"Description: {(tender.description or '-')[:MAX_PROMPT_TEXT]}"
    )
    answer = llm.complete_json(SYSTEM_PROMPT, prompt, max_tokens=60, deadline=deadline)
    category = answer.get("category")
    if not isinstance(category, str) or category not in CATEGORIES:
        raise LLMUnavailableError(f"the model answered an unknown category {category!r}")
    return category


@legacy_step_body
def enrich_tender(ocid: str, llm: LLM | None, step_budget: float) -> dict[str, str | bool]:
    """Categorise one tender; small summary for the step output."""
    deadline = Deadline.after(step_budget)
    tender = _load(ocid)
    if tender is None:
        return {"ocid": ocid, "outcome": "not-found", "changed": False}
    if tender.category_source == "ai":
        return {"ocid": ocid, "outcome": "already-ai", "changed": False}
    category, source = None, "rules"
    if llm is not None:
        try:
            answer_by = deadline.part(keep=WRITE_MARGIN_SECONDS)
            category, source = llm_category(llm, tender, answer_by), "ai"
        except LLMUnavailableError:
            category = None
    if category is None:
        rules = rule_category(tender.scheme, tender.code, tender.code_description, tender.title)
        category = rules or FALLBACK_CATEGORY
    with session_scope() as session:
        changed = set_category(session, ocid, category, source)
    return {"ocid": ocid, "outcome": f"{source}:{category}", "changed": changed}
