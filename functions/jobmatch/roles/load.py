"""Load the packaged taxonomy into `global_roles`: `python -m jobmatch.roles.load`.

Also run by the Migrate Lambda (`{"action": "load-roles"}`) after the schema is
upgraded. Idempotent: roles are upserted on their taxonomy code, so a newer file
updates names, aliases and descriptions in place (a changed role loses its vector
and the hourly `embed-roles` run, or `roles/embed-missing`, computes it again).
Vectors are not computed here: 3,600 roles and 34,000 terms through Bedrock would
not fit in one invocation, so the bounded `embed-roles` function does it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jobmatch.db.session import session_scope
from jobmatch.roles import store as repository
from jobmatch.roles.taxonomy import TAXONOMY_FILE, load_taxonomy


def load(path: Path = TAXONOMY_FILE) -> dict[str, int]:
    """Upsert the taxonomy at `path`; counts."""
    roles, _sources = load_taxonomy(path)
    with session_scope() as session:
        return repository.load_taxonomy(session, roles)


def main() -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", type=Path, default=TAXONOMY_FILE)
    args = parser.parse_args()
    print(load(args.file))


if __name__ == "__main__":
    main()
