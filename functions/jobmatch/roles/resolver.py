"""Job titles (and free-text preferred roles) to roles: by exact name first, then by meaning.

1. The title, and the title cleaned of seniority, contract, gender and place notes
   (`titles.clean_title`), are looked up as a role's name, then as an alias. Such a
   hit is precise and decides alone.
2. Otherwise the cleaned title's vector is compared with every role in pgvector,
   two ways blended half and half: with the role's own vector (name, aliases,
   description) and with the closest of its name/alias vectors (`role_terms`).
   Roles whose name or alias occurs inside the title compete here as candidates,
   they do not win outright: "disaster social worker" contains "social worker",
   yet the more specific "crisis situation social worker" ranks higher by meaning.
   Lexical evidence joins the vector score (`lexical_weight`, 0.2): BM25 of the
   title's words over each role's names and aliases, relative to the title's best,
   so a word the static model blurs ("warehouse" in a data role) is checked against
   the words the taxonomy really lists; its top roles are candidates too.
3. The best role must reach `floor`; the roles within `margin` of it that reach
   `second_floor` too (at most `max_roles`) are kept with their similarity, so
   candidate generation offers the job to each of their candidates and the score,
   not the resolver, decides a close call. A second role must earn its place: on
   the bench's training half, the second and third roles between 0.5 and 0.7 were
   another occupation about 8 times for each time they were the title's own.
   The best role's family (parent, children, siblings in the taxonomy, and the
   roles of its ISCO unit group) that is near too is kept apart: their candidates
   are offered the job at a lower score.
4. A title with no role above the floor is `unresolved`: it is still matched by
   similarity alone, and counted and listed for operators.

Everything is set-based: one query for a batch's exact phrases (the phrase index is
built from one read of `global_roles`), one for all its vector candidates, one for
the families. Ties are broken by role id, so resolving is deterministic.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jobmatch.ai.embedder import EmbeddingProvider
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.embeddings.model_store import require_model
from jobmatch.roles import store as roles_store
from jobmatch.roles.titles import clean_title

if TYPE_CHECKING:
    from jobmatch.settings import Settings

_WORDS = re.compile(r"[\w+#]+")
# Neighbours fetched per title from each index before blending (a role's text
# vector and its term vectors rank roles differently; the union holds the best).
KNN_ROLES = 20
KNN_TERMS = 40
# Roles taken from the lexical (BM25) ranking per title, and its parameters.
KNN_LEXICAL = 20
BM25_K1 = 1.2
BM25_B = 0.75


@dataclass(frozen=True, slots=True)
class ResolverLimits:
    """How strict resolving is (from settings at the edge; defaults measured by
    `bench/role_quality_bench.py`)."""

    floor: float = 0.5
    margin: float = 0.07
    max_roles: int = 3
    family_max: int = 12
    lexical_weight: float = 0.2
    second_floor: float = 0.7

    @classmethod
    def from_settings(cls, settings: Settings) -> ResolverLimits:
        """The limits the settings name."""
        return cls(
            floor=settings.role_similarity_floor,
            margin=settings.role_margin,
            max_roles=settings.role_max_per_job,
            family_max=settings.role_family_max,
            lexical_weight=settings.role_lexical_weight,
            second_floor=settings.role_second_floor,
        )


@dataclass(frozen=True, slots=True)
class RoleHit:
    """One role a title resolved to."""

    role_id: int
    similarity: float
    method: str  # exact | alias | vector


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a title resolved to. `status`: exact, alias, vector, unresolved, or
    pending (no embedder was given and no name matched)."""

    title: str
    cleaned: str
    status: str
    roles: tuple[RoleHit, ...] = ()
    family: tuple[tuple[int, float], ...] = field(default=())  # (role id, similarity)

    @property
    def role_ids(self) -> set[int]:
        """The ids of the title's roles (not its family)."""
        return {h.role_id for h in self.roles}

    @property
    def best_role_id(self) -> int | None:
        """The best role (rank 1), if any."""
        return self.roles[0].role_id if self.roles else None

    @property
    def confidence(self) -> float | None:
        """The best role's similarity (1.0 for an exact or alias hit)."""
        return self.roles[0].similarity if self.roles else None


def words(phrase: str) -> str:
    """A phrase as its lower-case words joined by single spaces (punctuation dropped)."""
    return " ".join(_WORDS.findall(phrase.lower()))


def stem(word: str) -> str:
    """A word without its plural ending: lexical evidence counts "nurses" as "nurse"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class PhraseIndex:
    """Role names and aliases, by their words, and a BM25 index of their words (each
    role one document). Built once per batch from one query."""

    def __init__(self, rows: Iterable[tuple[int, str, Sequence[str]]]) -> None:
        self._names: dict[str, list[int]] = defaultdict(list)
        self._aliases: dict[str, list[int]] = defaultdict(list)
        self._postings: dict[str, dict[int, int]] = defaultdict(dict)
        self._length: dict[int, int] = {}
        for role_id, name, aliases in sorted(rows, key=lambda r: r[0]):
            self._names[words(name)].append(role_id)
            for alias in aliases:
                key = words(alias)
                if role_id not in self._aliases[key]:
                    self._aliases[key].append(role_id)
            tokens = [stem(w) for p in {words(name), *map(words, aliases)} for w in p.split()]
            self._length[role_id] = len(tokens)
            for token in tokens:
                self._postings[token][role_id] = self._postings[token].get(role_id, 0) + 1
        self._longest = max((len(p.split()) for p in [*self._names, *self._aliases]), default=0)
        self._mean_length = sum(self._length.values()) / max(1, len(self._length))

    @classmethod
    def load(cls, session: UnitOfWork) -> PhraseIndex:
        """The index of the roles in the database."""
        return cls(roles_store.role_phrases(session))

    def exact(self, phrase: str, max_roles: int) -> tuple[RoleHit, ...]:
        """Roles whose name (else alias) is exactly this phrase."""
        key = words(phrase)
        if key in self._names:
            return tuple(RoleHit(r, 1.0, "exact") for r in self._names[key][:max_roles])
        return tuple(RoleHit(r, 1.0, "alias") for r in self._aliases.get(key, [])[:max_roles])

    def lexical(self, phrase: str, top: int) -> dict[int, float]:
        """The `top` roles by BM25 of the phrase's words over each role's names and
        aliases, scaled so the best has 1 (empty when no word is known)."""
        scores: dict[int, float] = defaultdict(float)
        n = len(self._length)
        for token in {stem(w) for w in words(phrase).split()}:
            postings = self._postings.get(token)
            if not postings:
                continue
            idf = math.log(1 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
            for role_id, tf in postings.items():
                norm = BM25_K1 * (1 - BM25_B + BM25_B * self._length[role_id] / self._mean_length)
                scores[role_id] += idf * tf * (BM25_K1 + 1) / (tf + norm)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:top]
        best = ranked[0][1] if ranked else 1.0
        return {role_id: value / best for role_id, value in ranked}

    def contained(self, phrase: str) -> list[int]:
        """Roles whose name or alias occurs in the phrase as whole words (longest first)."""
        tokens = words(phrase).split()
        for n in range(min(self._longest, len(tokens)), 0, -1):
            found = sorted(
                {
                    role_id
                    for start in range(len(tokens) - n + 1)
                    for index in (self._names, self._aliases)
                    for role_id in index.get(" ".join(tokens[start : start + n]), ())
                }
            )
            if found:
                return found
        return []


def _vector_literal(vector: Sequence[float]) -> list[float]:
    return [round(float(x), 7) for x in vector]


def vector_scores(
    session: UnitOfWork,
    vectors: Sequence[Sequence[float]],
    extra: dict[int, list[int]],
    *,
    nearest: bool = True,
) -> list[dict[int, float]]:
    """For each vector: role id -> blended similarity, over its nearest roles and the
    roles of its nearest terms (unless `nearest` is off), and the `extra` roles named
    for it (one query)."""
    if not vectors:
        return []
    rows = roles_store.vector_candidates(
        session,
        vectors_json=json.dumps([_vector_literal(v) for v in vectors]),
        extra_json=json.dumps([[i, r] for i, roles in extra.items() for r in roles]),
        k_roles=KNN_ROLES if nearest else 0,
        k_terms=KNN_TERMS if nearest else 0,
        ef_search=max(KNN_TERMS, 40),
    )
    scores: list[dict[int, float]] = [{} for _ in vectors]
    for i, role_id, text_sim, term_sim in rows:
        blended = float(text_sim) if term_sim is None else (text_sim + term_sim) / 2
        scores[int(i)][int(role_id)] = round(float(blended), 6)
    return scores


def combine(scores: dict[int, float], lexical: dict[int, float], weight: float) -> dict[int, float]:
    """Vector similarity and lexical evidence blended: (1 - weight) x vector + weight
    x the role's BM25 relative to the title's best."""
    return {
        role_id: round((1 - weight) * sim + weight * lexical.get(role_id, 0.0), 6)
        for role_id, sim in scores.items()
    }


def pick(scores: dict[int, float], limits: ResolverLimits) -> tuple[RoleHit, ...]:
    """The best role, if it reaches the floor, and those within the margin of it that
    reach the second floor."""
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    if not ranked or ranked[0][1] < limits.floor:
        return ()
    best = ranked[0][1]
    cut = max(best - limits.margin, limits.second_floor)
    seconds = [(r, score) for r, score in ranked[1 : limits.max_roles] if score >= cut]
    return tuple(RoleHit(r, score, "vector") for r, score in [ranked[0], *seconds])


def families(session: UnitOfWork, role_ids: Iterable[int]) -> dict[int, list[tuple[int, float]]]:
    """Each role's family (its parent, its children, its parent's other children and
    the other roles of its ISCO unit group, a four-digit `group_code`) with how near
    each relative's vector is to the role's own."""
    ids = sorted(set(role_ids))
    if not ids:
        return {}
    rows = roles_store.relatives(session, ids)
    out: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for best, member, similarity in rows:
        out[int(best)].append((int(member), float(similarity)))
    return out


def resolve_titles(
    session: UnitOfWork,
    titles: Sequence[str],
    embedder: EmbeddingProvider | None,
    limits: ResolverLimits,
    *,
    index: PhraseIndex | None = None,
) -> list[Resolution]:
    """Resolve job titles, in order. Without an embedder only the exact path runs
    (the import request does that; the matching function resolves the rest)."""
    index = index or PhraseIndex.load(session)
    out: list[Resolution | None] = []
    cleaned = [clean_title(t) for t in titles]
    pending: list[int] = []
    for i, (title, clean) in enumerate(zip(titles, cleaned, strict=True)):
        hits = index.exact(title, limits.max_roles) or index.exact(clean, limits.max_roles)
        if hits:
            out.append(Resolution(title, clean, hits[0].method, hits))
        else:
            out.append(None)
            pending.append(i)
    vectors: dict[int, list[float]] = {}
    if pending and embedder is not None:
        require_model(session, embedder)
        embedded = embedder.embed([cleaned[i] for i in pending])
        vectors = dict(zip(pending, embedded, strict=True))
        lexical = [index.lexical(cleaned[i], KNN_LEXICAL) for i in pending]
        extra = {
            k: sorted({*index.contained(cleaned[i]), *lexical[k]}) for k, i in enumerate(pending)
        }
        scored = vector_scores(session, embedded, extra)
        for k, (i, scores) in enumerate(zip(pending, scored, strict=True)):
            hits = pick(combine(scores, lexical[k], limits.lexical_weight), limits)
            status = "vector" if hits else "unresolved"
            out[i] = Resolution(titles[i], cleaned[i], status, hits)
    results = [
        r or Resolution(t, c, "pending") for r, t, c in zip(out, titles, cleaned, strict=True)
    ]
    return _with_families(session, results, vectors, limits)


def _with_families(
    session: UnitOfWork,
    results: list[Resolution],
    vectors: dict[int, list[float]],
    limits: ResolverLimits,
) -> list[Resolution]:
    """Add each resolved title's family: the best role's relatives that are near too
    (at the floor or above, by similarity, at most `family_max`). Near the title's
    vector when the title was resolved by meaning; near the role's own vector when
    the title is the role's name or alias (no title vector is needed then)."""
    family_of = families(session, (r.best_role_id for r in results if r.best_role_id))
    relatives = {
        k: [(m, sim) for m, sim in family_of.get(r.best_role_id or 0, []) if m not in r.role_ids]
        for k, r in enumerate(results)
        if r.roles
    }
    keys = [k for k, members in relatives.items() if members and k in vectors]
    by_title = vector_scores(
        session,
        [vectors[k] for k in keys],
        {n: [m for m, _ in relatives[k]] for n, k in enumerate(keys)},
        nearest=False,
    )
    measured = {k: list(found.items()) for k, found in zip(keys, by_title, strict=True)}
    out = list(results)
    for k, members in relatives.items():
        near = sorted(
            ((m, round(sim, 6)) for m, sim in measured.get(k, members) if sim >= limits.floor),
            key=lambda item: (-item[1], item[0]),
        )[: limits.family_max]
        r = results[k]
        out[k] = Resolution(r.title, r.cleaned, r.status, r.roles, tuple(near))
    return out


def resolve_role_names(
    session: UnitOfWork,
    names: Sequence[str],
    embedder: EmbeddingProvider | None,
    limits: ResolverLimits,
) -> list[int]:
    """Role ids for preferred roles given as free text: a name or alias as it is,
    else the best role by meaning (above the floor). Unknown text matches nothing."""
    found: set[int] = set()
    for resolution in resolve_titles(session, names, embedder, limits):
        if resolution.status in ("exact", "alias"):
            found.update(h.role_id for h in resolution.roles)
        elif resolution.best_role_id is not None:
            found.add(resolution.best_role_id)
    return sorted(found)
