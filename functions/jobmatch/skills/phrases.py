"""Candidate skill phrases in a job's title and description, without a model.

Text is cut into word tokens that keep what technology names are made of ("C++",
"C#", "Node.js", ".NET", "Scikit-learn") and separators (punctuation, brackets,
slashes). Between separators, the longest run of up to five words that names a
skill wins ("Microsoft SQL Server" before "SQL"); "CI/CD"-style compounds are
tried whole before their parts.

Two guards keep everyday words from becoming skills. A one-letter name ("C",
"R") counts only inside a list ("C/C++", "R, Python"): elsewhere a lone letter is
a grade, a funding round or an initial. A name that is an everyday word
("Excel", "Chef", "Docker") opening a sentence, where any word is capitalised,
counts when a list, a capitalised word or a word like "developer" or "skills"
follows ("React Developer", "Excel skills"), not in "Chef de partie wanted" or
"Excel at ...".

A word with a version glued on ("Python3.12", "Vue3", "PostgreSQL16") is tried
without it. What still names no skill but looks like a technology (a digit, a
symbol or an inner capital: "PySpark", "GraphQL-API") is handed back for vector
search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jobmatch.skills.taxonomy import Hit, SkillIndex

_TOKEN = re.compile(
    r"\.[A-Za-z][A-Za-z0-9]*"  # .NET
    r"|[A-Za-z0-9](?:[A-Za-z0-9]|[.'\-](?=[A-Za-z0-9]))*[+#]*"  # Node.js, C++, C#, e-mail
    r"|[,;:()\[\]&|/•·\n]"  # separators
    r"|\.(?=\s|$)"  # a sentence's end
)
_LIST_WORDS = frozenset({"and", "or", "und", "oder"})
_LIST_MARKS = frozenset(",;()[]&|/")
_SENTENCE_MARKS = frozenset({".", "\n", ":", "•", "·"})
_SKILL_CONTEXT = frozenset(
    {
        "developer",
        "developers",
        "engineer",
        "engineers",
        "engineering",
        "development",
        "experience",
        "skills",
        "knowledge",
        "expertise",
        "programming",
        "framework",
        "stack",
        "certification",
    }
)
_VERSIONED = re.compile(r"^(.*[A-Za-z+#])v?\d+(?:\.\d+)*$")
_TECHNICAL = re.compile(r"^(?=.*[A-Za-z])(?:.*[0-9+#.].*|[A-Za-z]*[a-z][A-Z].*)$")
MAX_LEFTOVERS = 8


@dataclass
class Scan:
    """What the text names: skill hits by id (with the phrase that named them) and
    technical-looking words no name matched."""

    hits: dict[int, Hit] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)


def _is_separator(token: str) -> bool:
    return len(token) == 1 and not token.isalnum()


def _in_list(tokens: list[str], i: int, n: int) -> bool:
    """Whether the phrase tokens[i:i+n] sits in a list (a list mark or "and"/"or"
    right before or after it)."""
    around = [tokens[j] for j in (i - 1, i + n) if 0 <= j < len(tokens)]
    return any(t in _LIST_MARKS or t.lower() in _LIST_WORDS for t in around)


def _reads_as_name(tokens: list[str], i: int, n: int) -> bool:
    """Whether an everyday word opening a sentence is used as a name: what follows
    is a list mark, the end, a capitalised word or a word about skills."""
    if i + n >= len(tokens):
        return True
    after = tokens[i + n]
    return (
        _is_separator(after)
        or after[0].isupper()
        or after[0].isdigit()
        or after.lower() in _SKILL_CONTEXT
    )


def tokens_of(text: str) -> list[str]:
    """Word and separator tokens, in order."""
    return _TOKEN.findall(text)


def scan(text: str, index: SkillIndex) -> Scan:
    """Every skill the text names; see the module doc."""
    tokens = tokens_of(text)
    out = Scan()
    seen_leftovers: set[str] = set()
    i = 0
    while i < len(tokens):
        if _is_separator(tokens[i]):
            i += 1
            continue
        # "CI/CD", "PL/SQL", "TCP/IP": the compound first.
        if i + 2 < len(tokens) and tokens[i + 1] == "/" and not _is_separator(tokens[i + 2]):
            hit = index.lookup("".join(tokens[i : i + 3]))
            if hit is not None:
                out.hits.setdefault(hit.skill_id, hit)
                i += 3
                continue
        matched = 0
        for n in range(index.max_words, 0, -1):
            words = tokens[i : i + n]
            if len(words) < n or any(_is_separator(w) for w in words):
                continue
            phrase = " ".join(words)
            hit = index.lookup(phrase)
            if hit is None:
                continue
            in_list = _in_list(tokens, i, n)
            if len(phrase) == 1 and not in_list:
                continue
            opens_sentence = i == 0 or tokens[i - 1] in _SENTENCE_MARKS
            if hit.strict and opens_sentence and not (in_list or _reads_as_name(tokens, i, n)):
                continue
            out.hits.setdefault(hit.skill_id, hit)
            matched = n
            break
        if matched:
            i += matched
            continue
        word = tokens[i]
        versioned = _VERSIONED.match(word)
        hit = index.lookup(versioned.group(1)) if versioned else None
        if hit is not None:
            out.hits.setdefault(hit.skill_id, hit)
            i += 1
            continue
        if (
            _TECHNICAL.match(word)
            and not word.replace(".", "").isdigit()
            and word.lower() not in seen_leftovers
            and len(out.leftovers) < MAX_LEFTOVERS
        ):
            seen_leftovers.add(word.lower())
            out.leftovers.append(word)
        i += 1
    return out
