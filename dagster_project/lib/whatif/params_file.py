"""The reviewed what-if parameters file, ``whatif.yml``: which questions the Dagster assets
answer, with which options (docs/whatif.md, *Parameters file*).

Found as ``$MLCOST_WHATIF`` (a named file must exist), else ``whatif.yml`` beside the landing
folder (may be absent: no questions). Format::

    questions:
      - question: distillation
        model: query-ranker
        throughput-gain: 3
        engineering-hours: 400
        hourly-rate: 120

Each entry's keys are the command's flags without ``--`` (``-`` or ``_``); they are checked
by the same parser as the command line, so an entry is valid exactly when the command is.
A bad entry is reported on its own; the others are still answered."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from dagster_project import settings

ENV = "MLCOST_WHATIF"
FILE_NAME = "whatif.yml"


class ParamsFileError(Exception):
    """The whole file cannot be used (missing when named, not YAML, no `questions` list)."""


@dataclass
class Entry:
    index: int  # 1-based position in the file
    question: str
    params: dict  # as written
    options: dict | None  # parsed options, None when the entry is invalid
    error: str | None = None


def params_path() -> Path | None:
    value = os.environ.get(ENV)
    if value:
        path = Path(value).expanduser().resolve()
        if not path.is_file():
            raise ParamsFileError(f"{path}: the what-if parameters file named by {ENV} does not "
                                  "exist.")
        return path
    landing = settings.landing_location()
    if settings.is_remote(landing):
        return None
    beside = Path(landing).parent / FILE_NAME
    return beside if beside.is_file() else None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise ValueError(message)


def parse_entry(index: int, raw) -> Entry:
    from . import QUESTIONS

    if not isinstance(raw, dict) or not isinstance(raw.get("question"), str):
        return Entry(index, "", raw if isinstance(raw, dict) else {"value": raw}, None,
                     f"entry {index}: expected a mapping with `question:` (one of "
                     f"{', '.join(QUESTIONS)}).")
    question, params = raw["question"], {k: v for k, v in raw.items() if k != "question"}
    if question not in QUESTIONS:
        return Entry(index, question, params, None, f"entry {index}: unknown question "
                     f"{question!r} (known: {', '.join(QUESTIONS)}).")
    parser = _Parser(prog=f"whatif.yml entry {index} ({question})", add_help=False)
    QUESTIONS[question].add_arguments(parser)
    parser.add_argument("--from", dest="from_")
    parser.add_argument("--to")
    argv: list[str] = []
    for key, value in params.items():
        flag = "--" + str(key).replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value not in (None, False):
            argv += [flag, str(value)]
    try:
        ns = parser.parse_args(argv)
    except ValueError as exc:
        return Entry(index, question, params, None, f"entry {index} ({question}): {exc}.")
    opts = vars(ns)
    opts["from"] = opts.pop("from_")
    return Entry(index, question, params, opts)


def load(path: Path) -> list[Entry]:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ParamsFileError(f"{path}: not a readable YAML file ({exc}).") from None
    items = doc.get("questions") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ParamsFileError(f"{path}: expected a top-level `questions:` list "
                              "(docs/whatif.md, Parameters file).")
    return [parse_entry(i, raw) for i, raw in enumerate(items, start=1)]
