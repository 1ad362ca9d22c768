"""``importer`` on the command line: a thin layer over :func:`importer.import_records`.

Settings come from, in order of precedence: the command line; the environment
(``IMPORTER_<FLAG>``, e.g. ``IMPORTER_CONCURRENCY=64``, and ``VISMA_*`` for the
connection); a TOML config file (``--config``, ``$IMPORTER_CONFIG``, else
``./importer.toml`` when present: keys are the flag names); the defaults.

Exit codes: 0 every record succeeded; 1 some failed or were invalid; 2 usage or
configuration error, nothing sent; 130 interrupted (the results file is resumable).

The package: :mod:`~importer.cli.parser` builds the tree of commands and flags (the
shared groups in :mod:`~importer.cli.groups`), :mod:`~importer.cli.config` layers the
environment and the config file under it, a module per command or family does the work
(:mod:`~importer.cli.run`, :mod:`~importer.cli.plans`, :mod:`~importer.cli.ledger`,
:mod:`~importer.cli.company`, :mod:`~importer.cli.check`, :mod:`~importer.cli.undo`, :mod:`~importer.cli.report`, :mod:`~importer.cli.columns`, :mod:`~importer.cli.mapinit`),
and :mod:`~importer.cli.printing` prints what they return. :func:`main` here picks the
command and turns every error into one line and an exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from importer.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE

if TYPE_CHECKING:
    import argparse

    from importer.cli.parser import build_parser

__all__ = ["main", "build_parser"]

Command = Callable[["argparse.Namespace", list[str]], Awaitable[int]]


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:  # Ctrl-C while the command starts up: nothing was sent
        print("importer: stopped (Ctrl-C)", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str]) -> int:
    if argv == ["--version"]:  # what the parser would print, without building it
        from importer.version import __version__

        print(f"importer {__version__}")
        return 0
    import logging

    from importer.cli.config import apply_defaults, config_file
    from importer.cli.parser import build_parser
    from importer.errors import AuthError, ConfigError, ImporterError

    parser = build_parser()
    try:
        apply_defaults(parser, config_file(argv))
    except ConfigError as exc:
        print(f"importer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(argv)
    if args.command in ("columns", "map", "report"):
        return _plain_command(args.command)(args)
    if args.command == "sandbox":
        from importer.sandbox import main as sandbox_main

        return sandbox_main(argv[argv.index("sandbox") + 1:])
    import anyio  # the event loop and the logs: for the commands that talk to the API (not for --help)

    from importer.logs import setup_logging, tell

    setup_logging(args.verbose, args.log_format)
    command = _api_command(args.command)
    from importer.api import event_loop_options
    try:
        try:
            code = anyio.run(command, args, argv, backend_options=event_loop_options())
        except BaseExceptionGroup as group:  # a task's error, raised through its task group
            raise _single(group) from None
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except (ConfigError, AuthError) as exc:
        tell(f"importer: error: {exc}")
        return EXIT_USAGE
    except ImporterError as exc:
        tell(f"importer: error: {exc}")
        return EXIT_FAILED
    except Exception as exc:  # a bug of ours: one line, not a traceback (-vv logs it whole)
        logging.getLogger("importer").debug("internal error", exc_info=True)
        tell(f"importer: internal error: {type(exc).__name__}: {exc}; please report it with the "
             "command that caused it")
        return EXIT_FAILED
    return code


# Each command's module is imported when that command runs, not before: importing them
# all (rich's tables, export, verify, reconcile, the report's writers) made
# `importer --version` and `importer --help` about 14 % slower (0.50 s against 0.44 s).


def _plain_command(name: str) -> Callable[[argparse.Namespace], int]:
    """``columns``, ``map`` or ``report``: they read files and send nothing."""
    if name == "columns":
        from importer.cli.columns import columns_command

        return columns_command
    if name == "map":
        from importer.cli.mapinit import map_init_command

        return map_init_command
    from importer.cli.report import report_command

    return report_command


def _api_command(name: str) -> Command:
    """A command that talks to the API, in an event loop."""
    if name == "run":
        from importer.cli.run import run_command

        return run_command
    if name in ("plan", "fleet"):
        from importer.cli.plans import fleet_command, plan_command

        return plan_command if name == "plan" else fleet_command
    if name == "check":
        from importer.cli.check import check_command

        return check_command
    if name == "company":
        from importer.cli.company import company_command

        return company_command
    if name == "undo":
        from importer.cli.undo import undo_command

        return undo_command
    if name == "signoff":
        from importer.cli.signoff import signoff_command

        return signoff_command
    from importer.cli.ledger import export_command, reconcile_command, verify_command

    return {"export": export_command, "verify": verify_command, "reconcile": reconcile_command}[name]


def __getattr__(name: str) -> object:
    if name == "build_parser":  # imported when asked for: ``importer --version`` builds no parser
        from importer.cli.parser import build_parser

        return build_parser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _single(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one error inside nested exception groups (the first, if there are several)."""
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error
