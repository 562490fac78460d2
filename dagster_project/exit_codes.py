"""The exit codes of every `mlcost` command: one table (README, "Exit codes"), used everywhere.

The numbers follow BSD's sysexits.h, which shells and schedulers already know.
"""

from __future__ import annotations

OK = 0  # everything asked for was done
FAILED = 1  # a step failed for a reason that is neither bad data nor busy (see the message)
USAGE = 64  # the command line is wrong (unknown flag, bad YYYY-MM...): nothing was done
DATA_ERROR = 65  # bad input data: files quarantined or slices held back; the rest is published
MISSING_INPUT = 66  # the landing folder or the warehouse named does not exist
INTERNAL = 70  # a bug in mlcost (an unexpected exception): rerun with --debug and report it
BUSY = 75  # another run holds the warehouse; gave up after MLCOST_BUSY_TIMEOUT seconds
# Stopped by Ctrl-C or SIGTERM (128 + SIGINT, the shell's code for Ctrl-C; Dagster handles both
# signals as one interrupt, so they share it). Committed work stays; the next run finishes.
INTERRUPTED = 130


class ExitError(Exception):
    """An error the user can act on: printed as one paragraph (no traceback), exits `code`."""

    def __init__(self, message: str, code: int = FAILED) -> None:
        super().__init__(message)
        self.code = code
