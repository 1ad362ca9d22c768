"""A nightly load: import the day's invoice file from a drop folder, once.

    python samples/nightly.py /data/drop                 # today's file
    python samples/nightly.py /data/drop --date 2026-11-23

It imports DROP/invoices-YYYY-MM-DD.csv with resume semantics: a rerun the same
night (after a crash, or by a scheduler that retries) sends nothing twice. It
writes DROP/invoices-YYYY-MM-DD.summary.json for the scheduler and exits 0 when
every record went in, 1 when any failed (see the failed-records file beside the
input), 2 when there is no file or the configuration is wrong.

Credentials and the API address come from the environment, as for the CLI:
VISMA_BASE_URL, and VISMA_TOKEN or VISMA_CLIENT_ID / VISMA_CLIENT_SECRET /
VISMA_TENANT_ID.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from pathlib import Path

import orjson

import importer

log = logging.getLogger("nightly")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Import the day's invoices from a drop folder.")
    parser.add_argument("drop", type=Path, help="the drop folder")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date.today())
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    source = args.drop / f"invoices-{args.date.isoformat()}.csv"
    if not source.exists():
        log.error("no file for %s: %s", args.date, source)
        return 2
    try:
        summary = importer.import_records_sync(
            source, entity="invoice",
            resume=True,  # a rerun the same night skips what already went in
            base_url=os.environ.get("VISMA_BASE_URL", importer.Connection.base_url),
            token=os.environ.get("VISMA_TOKEN"),
            client_id=os.environ.get("VISMA_CLIENT_ID"),
            client_secret=os.environ.get("VISMA_CLIENT_SECRET"),
            tenant_id=os.environ.get("VISMA_TENANT_ID"),
        )
    except (importer.ConfigError, importer.AuthError) as exc:
        log.error("%s", exc)
        return 2
    summary_path = source.with_suffix(".summary.json")
    summary_path.write_bytes(orjson.dumps(summary.to_dict(), option=orjson.OPT_INDENT_2))
    log.info("%s: %s, %d calls; summary in %s", source.name, summary.outcomes, summary.calls, summary_path)
    if not summary.ok:
        log.error("not everything went in; fix %s and rerun with --retry-failed semantics",
                  summary.failed_path or summary.results_path)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
