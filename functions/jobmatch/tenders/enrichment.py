"""Detailed category of one tender: rules first, the LLM when AI is on, clean fallback.

The LLM sees the title, description and classification and must answer one of our
category keys; any other answer, or any failure, counts as unavailable and the
rule-based category (or "other") is kept. The database session is not held while
the model thinks: read, close, ask, then write in a new session. The model gets
what is left of the step's deadline, less a margin for that write.
"""

from __future__ import annotations

from jobmatch.ai.llm import LLM, LLMUnavailableError
from jobmatch.deadline import Deadline
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body
from jobmatch.tenders import store
from jobmatch.tenders.categories import CATEGORIES, rule_category
from jobmatch.tenders.store import TenderText

FALLBACK_CATEGORY = "other"
SYSTEM_PROMPT = (
    "You classify public procurement tenders into exactly one category. "
    'Answer with one JSON object {"category": "<key>"} and nothing else. Keys: '
    + "; ".join(f"{key} = {label}" for key, label in CATEGORIES.items())
)
MAX_PROMPT_TEXT = 1500
# Kept from the step's deadline for writing the category after the model answers.
WRITE_MARGIN_SECONDS = 1.0


class TenderRef(StepInput):
    """One tender, by its OCDS id."""

    ocid: str


class Categorised(StepOutput):
    """What enrichment did to one tender: `<source>:<category>` or why nothing."""

    ocid: str
    outcome: str
    changed: bool


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


@step_body
def enrich_tender(deps: StepDeps, inp: TenderRef) -> Categorised:
    """Categorise one tender; small summary for the step output."""
    deadline = Deadline.after(deps.settings.step_budget_seconds)
    ocid, llm = inp.ocid, deps.llm
    with deps.unit_of_work() as uow:
        tender = store.tender_text(uow, ocid)
    if tender is None:
        return Categorised(ocid=ocid, outcome="not-found", changed=False)
    if tender.category_source == "ai":
        return Categorised(ocid=ocid, outcome="already-ai", changed=False)
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
    with deps.unit_of_work() as uow:
        changed = store.set_category(uow, ocid, category, source)
    return Categorised(ocid=ocid, outcome=f"{source}:{category}", changed=changed)
