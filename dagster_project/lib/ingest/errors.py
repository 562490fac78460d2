"""Errors raised for bad input: always one readable paragraph naming the file and the problem."""

from __future__ import annotations

from pathlib import Path


class BadInputError(Exception):
    """A landed file cannot be loaded. The message names the file, and the row/column if known."""

    def __init__(
        self,
        path: Path | str,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = str(path)
        self.problem = problem
        self.row = row
        self.column = column
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = []
        if row := self.row:
            where.append(f"row {row}")
        if self.column:
            where.append(f"column {self.column!r}")
        loc = f" ({', '.join(where)})" if where else ""
        text = f"{self.path}{loc}: {self.problem}"
        if self.hint:
            text += f" {self.hint}"
        return text


class WarehouseBusyError(Exception):
    """Another process holds the embedded DuckDB warehouse open for writing."""


class NotAnExport(Exception):
    """A file that belongs beside exports but holds no billing rows (a delivery manifest)."""
