"""`mlcost forecast`: which scenarios file applies, one forecast run, and its summary.

The scenarios file is, in order: ``--scenarios FILE``, ``$MLCOST_SCENARIOS``, ``scenarios`` in
mlcost.toml, else ``scenarios.yml`` beside the landing folder when it exists (none: the
``base``/``best``/``worst`` cases equal the baseline). A file that is named but missing is an
error; the default one may be absent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from dagster_project import settings
from dagster_project.exit_codes import DATA_ERROR, MISSING_INPUT, USAGE, ExitError

from .scenario_file import (
    SCENARIO_FILE_MISSING,
    ScenarioFile,
    ScenarioFileError,
    load_scenario_file,
)

DEFAULT_FILE_NAME = "scenarios.yml"


def scenarios_path(explicit: str | Path | None = None) -> tuple[Path | None, bool]:
    """(the scenarios file in effect, whether it was named explicitly)."""
    if explicit:
        return Path(explicit).expanduser().resolve(), True
    configured = settings.scenarios_path()
    if configured is not None:
        return configured, True
    landing = settings.landing_location()
    if settings.is_remote(landing):
        return None, False  # nothing is read beside a remote landing
    beside = Path(landing).parent / DEFAULT_FILE_NAME
    return (beside, False) if beside.is_file() else (None, False)


def load_scenarios(explicit: str | Path | None = None) -> ScenarioFile | None:
    """The validated file in effect (see the module doc), or None. Raises ExitError: a named
    file that is missing (MISSING_INPUT), a file with problems (DATA_ERROR)."""
    path, named = scenarios_path(explicit)
    if path is None:
        return None
    if not path.is_file():
        if not named:
            return None
        raise ExitError(f"{path}: {SCENARIO_FILE_MISSING} (given by --scenarios, "
                        "MLCOST_SCENARIOS or `scenarios` in mlcost.toml).", MISSING_INPUT)
    try:
        return load_scenario_file(path)
    except ScenarioFileError as exc:
        raise ExitError(str(exc), DATA_ERROR) from None


def parse_as_of(value: str | None) -> date | None:
    from .scenario_file import parse_month

    if value is None:
        return None
    month = parse_month(value)
    if month is None:
        raise ExitError(f"--as-of {value!r}: expected a month YYYY-MM, e.g. 2026-09.", USAGE)
    return month


@dataclass
class ForecastSummary:
    snapshot_id: str
    status: str
    as_of: date
    horizon: int
    scenarios_file: str | None
    totals: list[tuple[str, Decimal, Decimal]]  # scenario, whole horizon, next quarter
    locked_quarter: str | None = None
    lock_note: str | None = None

    @property
    def _quarter(self) -> str:
        """The first 3 forecast months: the next quarter when the as-of month ends one."""
        return "next quarter" if self.as_of.month % 3 == 0 else "next 3 months"

    def render(self) -> str:
        lines = [
            f"Forecast snapshot {self.snapshot_id} ({self.status}): as of {self.as_of:%Y-%m}, "
            f"{self.horizon} months, scenarios file "
            f"{self.scenarios_file or 'none (base/best/worst = baseline)'}",
            f"  {'scenario':<9} {f'next {self.horizon} months':>22} {self._quarter:>18}",
        ]
        lines += [f"  {name:<9} {whole:>22,.2f} {quarter:>18,.2f}"
                  for name, whole, quarter in self.totals]
        if self.locked_quarter:
            lines.append(f"Locked as the plan of {self.locked_quarter}"
                         + (f" ({self.lock_note})" if self.lock_note else ""))
        return "\n".join(lines)


def run_forecast(warehouse: Path, *, horizon: int, scenarios: str | None, as_of: str | None,
                 lock: bool) -> ForecastSummary:
    """Validate the inputs, write (or reuse) the snapshot, optionally lock it."""
    from dagster_project.lib import run_lock
    from dagster_project.lib.warehouse import connection

    from .build import build_forecasts
    from .locks import lock_snapshot, locked_snapshot, quarter_after

    if horizon < 1:
        raise ExitError(f"--horizon {horizon}: expected a number of months >= 1.", USAGE)
    month = parse_as_of(as_of)
    if lock and month is not None and quarter_after(month) is None:
        raise ExitError(f"--lock with --as-of {as_of}: a quarter's plan is forecast as of the "
                        "last month before the quarter (e.g. 2026-09 for 2026Q4).", USAGE)
    sfile = load_scenarios(scenarios)  # before anything is opened for writing
    with run_lock.warehouse_lock(warehouse, f"forecast-{uuid.uuid4().hex[:8]}"), \
            connection(warehouse) as con:
        try:
            res = build_forecasts(con, as_of_month=month, horizon=horizon, scenarios=sfile,
                                  context="cli")
        except ScenarioFileError as exc:
            raise ExitError(str(exc), DATA_ERROR) from None
        if res.snapshot_id is None:
            raise ExitError(f"{warehouse}: no forecast written: {res.reason}.", MISSING_INPUT)
        summary = ForecastSummary(res.snapshot_id, res.status, res.as_of_month, horizon,
                                  sfile.path if sfile else None, _totals(con, res.snapshot_id))
        if lock:
            quarter = quarter_after(res.as_of_month)
            if quarter is None:
                raise ExitError(f"--lock: the as-of month {res.as_of_month:%Y-%m} does not end "
                                "a quarter; pass --as-of with the last month before the "
                                "quarter to lock.", USAGE)
            before = locked_snapshot(con, quarter)
            got = lock_snapshot(con, quarter, res.snapshot_id)
            summary.locked_quarter = quarter
            if before is not None:
                summary.lock_note = ("already locked, unchanged" if before == got else
                                     f"already locked to {before}; a lock never moves")
    return summary


def _totals(con, snapshot_id: str) -> list[tuple[str, Decimal, Decimal]]:
    rows = con.execute(
        """
        SELECT scenario, sum(point),
               sum(point) FILTER (WHERE step <= 3)
        FROM forecast.forecast_values
        WHERE snapshot_id = ? AND level = 'total'
        GROUP BY scenario
        ORDER BY CASE scenario WHEN 'baseline' THEN 0 WHEN 'best' THEN 1 WHEN 'base' THEN 2
                 WHEN 'worst' THEN 3 ELSE 4 END, scenario
        """, [snapshot_id]).fetchall()
    return [(name, whole, quarter or Decimal(0)) for name, whole, quarter in rows]
