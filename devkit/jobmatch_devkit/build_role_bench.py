"""Build the role quality bench's data (`bench/data/esco_bench.json.gz`) from ESCO's CSVs.

    python -m jobmatch_devkit.build_role_bench --esco DIR

What the bench needs beyond the packaged taxonomy, for every ESCO v1.1 occupation
(all fields, ISCO-08 major groups 0-9): its code, its ISCO unit group, and the part
of its description the taxonomy does NOT carry (the taxonomy keeps the first 300
characters; a job ad "with a description" in the bench uses the rest, so the title's
own role text is not handed back to the resolver). Plus the labels of the ISCO major
groups, to report per field. ESCO is CC BY 4.0 (European Commission); the file
carries the attribution. Not needed at test time: the bench reads the committed file.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
from pathlib import Path
from typing import Any

from jobmatch.roles.taxonomy import clip_description

BENCH_FILE = Path(__file__).resolve().parents[2] / "bench" / "data" / "esco_bench.json.gz"
ATTRIBUTION = (
    "This bench uses the ESCO classification v1.1 of the European Commission "
    "(https://esco.ec.europa.eu), licensed under CC BY 4.0. Modified: only codes, ISCO "
    "groups and the later part of each description are kept."
)


def build(esco_dir: Path, out: Path) -> dict[str, Any]:
    """Read the two CSVs, write the bench file; a summary."""
    with (esco_dir / "occupations_en.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    with (esco_dir / "ISCOGroups_en.csv").open(encoding="utf-8", newline="") as f:
        majors = {r["code"]: r["preferredLabel"] for r in csv.DictReader(f) if len(r["code"]) == 1}
    occupations = []
    for row in sorted(rows, key=lambda r: r["conceptUri"]):
        text = " ".join(row["description"].split())
        kept = clip_description(text)
        rest = text[len(kept) :].strip()
        occupations.append(
            {
                "code": "esco:" + row["conceptUri"].rsplit("/", 1)[-1],
                "isco": row["iscoGroup"],
                "description": clip_description(rest, 400),
            }
        )
    document = {
        "source": {"name": "ESCO v1.1", "license": "CC BY 4.0", "attribution": ATTRIBUTION},
        "major_groups": majors,
        "occupations": occupations,
    }
    raw = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.compress(raw.encode(), mtime=0))
    return {"occupations": len(occupations), "bytes": out.stat().st_size}


def main() -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--esco", type=Path, required=True, help="directory of ESCO's CSVs")
    parser.add_argument("--out", type=Path, default=BENCH_FILE)
    args = parser.parse_args()
    print(build(args.esco, args.out))


if __name__ == "__main__":
    main()
