"""The console logger of every job: Dagster's own colored logger, minus the stack traces an
interrupted run (Ctrl-C, SIGTERM) would print. `mlcost` says in one line that it stopped; the
full events stay in the Dagster instance."""

from __future__ import annotations

import logging

import dagster as dg
from dagster._loggers import colored_console_logger

INTERRUPTED = "DagsterExecutionInterruptedError"


class DropInterruptTraces(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return INTERRUPTED not in str(record.getMessage())


@dg.logger(colored_console_logger.config_schema,
           description="Dagster's colored console logger without interruption stack traces.")
def console_logger(init_context) -> logging.Logger:
    logger_ = colored_console_logger.logger_fn(init_context)
    for handler in logger_.handlers:
        handler.addFilter(DropInterruptTraces())
    return logger_
