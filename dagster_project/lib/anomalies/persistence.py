"""monitoring.cost_anomalies: the anomalies of the whole history, rebuilt on every run (the
detection is deterministic and takes seconds), so a re-delivered month is judged on its
current delivery only. Columns in docs/anomalies.md."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from dagster_project.lib.warehouse import table_exists, transaction

from .build import Anomaly, find_anomalies
from .detect import Params

SCHEMA, TABLE = "monitoring", "cost_anomalies"
# Anomalies ending this many days before the last day of data, or later, are "recent": the
# asset check warns about them.
RECENT_DAYS = 14
_MONEY = "DECIMAL(38,24)"
DDL = f"""
create table {SCHEMA}.{TABLE} (
    anomaly_id          VARCHAR NOT NULL PRIMARY KEY,
    series_kind         VARCHAR NOT NULL,
    provider            VARCHAR NOT NULL,
    billing_currency    VARCHAR,
    billing_account_id  VARCHAR,
    sub_account_id      VARCHAR,
    team                VARCHAR,
    service_name        VARCHAR,
    start_date          DATE NOT NULL,
    end_date            DATE NOT NULL,
    days                INTEGER NOT NULL,
    direction           VARCHAR NOT NULL,
    expected_cost       {_MONEY} NOT NULL,
    actual_cost         {_MONEY} NOT NULL,
    cost_impact         {_MONEY} NOT NULL,
    score               DOUBLE NOT NULL,
    peak_date           DATE NOT NULL,
    is_open             BOOLEAN NOT NULL,
    top_resource_id     VARCHAR,
    top_resource_impact {_MONEY},
    top_resources       VARCHAR NOT NULL,
    data_last_date      DATE NOT NULL,
    detected_at         TIMESTAMP NOT NULL
)"""
COLUMNS = [f.name for f in dataclasses.fields(Anomaly)] + ["data_last_date", "detected_at"]
INSERT = (f"insert into {SCHEMA}.{TABLE} ({', '.join(COLUMNS)}) "  # noqa: S608 (constants)
          f"values ({', '.join('?' * len(COLUMNS))})")
RECENT = f"""
select provider, coalesce(team, ''), coalesce(sub_account_id, ''), service_name, series_kind,
       start_date, end_date, direction, round(cost_impact, 2), coalesce(top_resource_id, '')
from {SCHEMA}.{TABLE}
where end_date >= data_last_date - interval {RECENT_DAYS} day
order by abs(cost_impact) desc, anomaly_id"""  # noqa: S608 (constants)


@dataclass
class AnomalyResult:
    status: str  # written | skipped
    reason: str | None
    anomalies: int = 0
    recent: int = 0
    last_date: dt.date | None = None


def write_anomalies(con, p: Params | None = None) -> AnomalyResult:
    """Detect on marts.fct_cost_allocations and replace monitoring.cost_anomalies."""
    if not table_exists(con, "marts", "fct_cost_allocations"):
        return AnomalyResult("skipped", "marts.fct_cost_allocations does not exist yet")
    last = con.execute("select max(charge_date) from marts.fct_cost_allocations").fetchone()[0]
    if last is None:
        return AnomalyResult("skipped", "marts.fct_cost_allocations is empty")
    found = find_anomalies(con, p or Params())
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    rows = [[*dataclasses.astuple(a), last, now] for a in found]
    with transaction(con):
        con.execute(f"create schema if not exists {SCHEMA}")
        con.execute(f"drop table if exists {SCHEMA}.{TABLE}")
        con.execute(DDL)
        if rows:
            con.executemany(INSERT, rows)
    recent = sum(1 for a in found if a.end_date >= last - dt.timedelta(days=RECENT_DAYS))
    return AnomalyResult("written", None, len(found), recent, last)


def recent_anomalies(con) -> list[tuple]:
    """The anomalies ending in the last RECENT_DAYS days of data, largest impact first."""
    if not table_exists(con, SCHEMA, TABLE):
        return []
    return con.execute(RECENT).fetchall()
