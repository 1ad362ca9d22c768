"""``importer map init INPUT``: a commented skeleton map for a legacy file (see :mod:`importer.mapinit.skeleton`).

With ``--company FILE`` (a snapshot), the value maps speak that company's ids. The
skeleton goes to ``-o`` or stdout; what was matched, what to check and what was
left out goes to stderr, with the command that rehearses the map.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from importer.cli.exits import EXIT_OK, EXIT_USAGE
from importer.company import load_company
from importer.entities import entity
from importer.errors import ImporterError
from importer.mapinit.skeleton import write_skeleton
from importer.sources import SourceOptions

__all__ = ["map_init_command"]


def map_init_command(args: argparse.Namespace) -> int:
    try:
        company = load_company(args.company) if args.company is not None else None
        skeleton, text = write_skeleton(
            args.input, entity(args.entity), args.output, force=args.force,
            options=SourceOptions(args.format, args.delimiter, encoding=args.encoding, sheet=args.sheet,
                                  header_row=args.header_row), company=company,
        )
    except ImporterError as exc:
        print(f"importer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.output is None:
        sys.stdout.write(text)
    unsure = sum(1 for g in skeleton.matched if not g.sure)
    todo = skeleton.todo_count
    unmatched = ", ".join(g.source for g in skeleton.unmatched)
    print(f"map init: {len(skeleton.matched)} of {len(skeleton.guesses)} columns matched"
          + (f" ({unsure} to check)" if unsure else "")
          + (f"; not matched, so ignored: {unmatched}" if unmatched else "")
          + (f"; {todo} TODO line(s) to decide" if todo else ""), file=sys.stderr)
    if args.output is not None:
        print(f"wrote {args.output}; rehearse it with: importer run {shlex.quote(args.input)}{skeleton.sheet_flags} "
              f"--entity {args.entity} --map {shlex.quote(args.output)} --dry-run", file=sys.stderr)
    return EXIT_OK
