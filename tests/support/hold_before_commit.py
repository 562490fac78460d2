"""Load a landing folder, but stop at the commit: fault injection for tests/test_crash_recovery.py.

Replaces the loader's `before_commit` seam with a hold that writes the file's path to a flag
file and then sleeps, so the test can SIGKILL the process with the rows inserted, the older
delivery superseded and nothing committed. Runtime code carries no test hook.

    python tests/support/hold_before_commit.py WAREHOUSE LANDING FLAG
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dagster_project.lib.ingest import loader
from dagster_project.lib.warehouse import connection


def main(warehouse: str, landing: str, flag: str) -> None:
    def hold(path: Path) -> None:
        Path(flag).write_text(str(path))
        time.sleep(600)

    loader.before_commit = hold
    with connection(warehouse) as con:
        loader.ingest_landing(con, landing, settle=0)


if __name__ == "__main__":
    main(*sys.argv[1:])
