"""Load a skills taxonomy into `skills` (insert or update by name, with vectors).

    python -m jobmatch.skills.load                 # the bundled taxonomy
    python -m jobmatch.skills.load --file my.json  # another one, same format

Run it after changing the taxonomy or the embedding provider (vectors of two
providers do not compare). A fresh deployment does not need it: the daily
extraction loads the bundled taxonomy when the table is empty.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jobmatch.dependencies import Dependencies
from jobmatch.settings import get_settings
from jobmatch.skills.steps import load_entries
from jobmatch.skills.taxonomy import BUNDLED, read_entries


def main(argv: list[str] | None = None) -> int:
    """Load the file; print how many skills were written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--file", type=Path, default=BUNDLED, help="taxonomy JSON")
    args = parser.parse_args(argv)
    written = load_entries(Dependencies(get_settings()), read_entries(args.file))
    print(f"{written} skills loaded from {args.file.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
