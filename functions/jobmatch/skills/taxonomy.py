"""The skills taxonomy: the bundled list, how it is loaded into `skills`, and the
in-memory index that matches phrases against names and aliases.

The bundled list (`data/skills.json`) is built by `jobmatch_devkit.build_skills`
from ESCO's ICT knowledge skills (CC BY 4.0, see the README) with loose aliases
dropped, plus our own entries (`source: jobmatch`): common short forms ("JS",
"Postgres", "k8s", "GCP") and technologies ESCO's ICT list lacks ("Docker",
"Flask", "dbt", "CI/CD").

A term matches on its *key*: lower-cased without spaces, hyphens and the dots
inside a word, so "Node.js", "NodeJS" and "node js" are one key. A name listed in
`exact_case` is an everyday word as well ("Go", "Chef", "Excel") and matches free
text only in its own spelling; a one-letter name ("C", "R") also only inside a
list ("C/C++", "R, Python").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import Skill
from jobmatch.embeddings.providers import EmbeddingProvider

BUNDLED = Path(__file__).parent / "data" / "skills.json"
CONFIDENCE = {"exact": 1.0, "alias": 0.95}
MAX_TERM_WORDS = 5
_SEPARATORS = re.compile(r"[\s_\-]+")
_INNER_DOT = re.compile(r"(?<=[a-z0-9])\.(?=[a-z0-9])")


def term_key(text: str) -> str:
    """The form names, aliases and phrases are compared in."""
    return _INNER_DOT.sub("", _SEPARATORS.sub("", text.strip().lower()))


@dataclass(frozen=True)
class TaxonomyEntry:
    """One skill as the bundled file (or another) lists it."""

    name: str
    aliases: tuple[str, ...] = ()
    category: str = ""
    source: str = "custom"
    exact_case: tuple[str, ...] = ()

    @property
    def embedding_text(self) -> str:
        """What the skill's vector is made of: its name and every alias."""
        return "\n".join([self.name, *self.aliases])


def read_entries(path: Path = BUNDLED) -> list[TaxonomyEntry]:
    """The entries of a taxonomy file (`[{name, aliases, category, source, exact_case}]`)."""
    raw: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return [
        TaxonomyEntry(
            name=item["name"],
            aliases=tuple(item.get("aliases", ())),
            category=item.get("category", ""),
            source=item.get("source", "custom"),
            exact_case=tuple(item.get("exact_case", ())),
        )
        for item in raw
    ]


def upsert_entries(
    session: Session, entries: Sequence[TaxonomyEntry], embedder: EmbeddingProvider
) -> int:
    """Insert or update skills by name, each with the vector of its text; how many
    rows were written. Callers batch (one embedding call per batch)."""
    if not entries:
        return 0
    vectors = embedder.embed([e.embedding_text for e in entries])
    rows = [
        {
            "name": e.name,
            "aliases": list(e.aliases),
            "category": e.category,
            "source": e.source,
            "exact_case": list(e.exact_case),
            "embedding": vector,
        }
        for e, vector in zip(entries, vectors, strict=True)
    ]
    stmt = insert(Skill).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Skill.name],
        set_={
            k: stmt.excluded[k]
            for k in ("aliases", "category", "source", "exact_case", "embedding")
        },
    )
    session.execute(stmt)
    return len(rows)


@dataclass(frozen=True)
class Hit:
    """A phrase that named a skill: which, how (exact name or alias), and whether
    the name is also an everyday word (`strict`)."""

    skill_id: int
    name: str
    how: str
    strict: bool = False

    @property
    def confidence(self) -> float:
        """1.0 for the skill's name, a little less for an alias."""
        return CONFIDENCE[self.how]


class SkillIndex:
    """Every name and alias of the stored skills by key (built once per step from
    one query; a few hundred rows)."""

    def __init__(self, rows: Sequence[tuple[int, str, Sequence[str], Sequence[str]]]) -> None:
        self._terms: dict[str, tuple[Hit, str | None]] = {}
        longest = 1
        for skill_id, name, aliases, exact_case in rows:
            strict = set(exact_case)
            for term, how in [(name, "exact"), *((a, "alias") for a in aliases)]:
                key = term_key(term)
                if key and key not in self._terms:
                    spelling = term if term in strict else None
                    hit = Hit(skill_id, name, how, strict=spelling is not None)
                    self._terms[key] = (hit, spelling)
                    longest = max(longest, len(term.split()))
        self.max_words = min(longest, MAX_TERM_WORDS)

    @classmethod
    def load(cls, session: Session) -> SkillIndex:
        """The index of the skills table."""
        rows = session.execute(select(Skill.id, Skill.name, Skill.aliases, Skill.exact_case)).all()
        return cls([(r.id, r.name, r.aliases, r.exact_case) for r in rows])

    def __len__(self) -> int:
        return len(self._terms)

    def lookup(self, phrase: str, *, free_text: bool = True) -> Hit | None:
        """The skill `phrase` names, or None. In free text a name listed as an
        everyday word must appear in its own spelling; a phrase a model gave as a
        skill name need not."""
        found = self._terms.get(term_key(phrase))
        if found is None:
            return None
        hit, spelling = found
        if free_text and spelling is not None and phrase.strip() != spelling:
            return None
        return hit
