"""``loancollect-sqlalchemy``: migrate a database, import rows, run workers.

loancollect-sqlalchemy migrate sqlite:///collect.db            # to the newest revision
loancollect-sqlalchemy migrate sqlite:///collect.db --to base  # downgrade to empty
loancollect-sqlalchemy current sqlite:///collect.db
loancollect-sqlalchemy heads

``migrate`` signs the existing event streams when it anchors them (revision 0004) with
the audit key in ``$LOANCOLLECT_AUDIT_KEY`` (or the file named by
``$LOANCOLLECT_AUDIT_KEY_FILE``), and prints what the migrations had to say.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from loancollect.domain.errors import LoanCollectError
from loancollect.ports import AuditKey
from loancollect_sqlalchemy import migrate

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="loancollect-sqlalchemy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("migrate", help="upgrade (or downgrade) the schema")
    up.add_argument("url")
    up.add_argument("--to", default="head", help="target revision (head, base, 0001, ...)")
    cur = sub.add_parser("current", help="print the database's revision")
    cur.add_argument("url")
    sub.add_parser("heads", help="print the newest shipped revision")
    args = parser.parse_args(argv)
    try:
        if args.command == "heads":
            print(migrate.head())
        elif args.command == "current":
            print(migrate.current(args.url) or "base")
        else:
            before = migrate.current(args.url)
            target = migrate.head() if args.to == "head" else args.to
            notes: list[str] = []
            if target == "base" or (before is not None and target < before):
                migrate.downgrade(args.url, target)
            else:
                notes = migrate.upgrade(args.url, target, audit_key=AuditKey.from_env())
            print(f"{before or 'base'} -> {migrate.current(args.url) or 'base'}")
            for note in notes:
                print(note)
    except LoanCollectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
