"""The quarterly FinOps report: one self-contained HTML file per fiscal quarter.

Read-only: it reads the tables written by forecasting and variance (and, when they exist, the
idle-waste and attribution-coverage marts) and never writes to the warehouse.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import polars as pl

from dagster_project.lib import forecast as fc
from dagster_project.lib import variance as var
from dagster_project.lib.variance.persistence import read_frame

from .accuracy import accuracy_section
from .charts import LineSeries, line_chart, waterfall_chart
from .formatting import FILTERS, month_label

TEMPLATE_DIR = Path(__file__).parent / "templates"
EFFECT_LABELS = {
    "volume_effect": "Volume",
    "mix_effect": "Mix",
    "price_effect": "Price",
    "new_discontinued_effect": "New / discontinued",
    "unquantified_effect": "Unquantified",
    "commitment_effect": "Commitment",
}
WASTE_DATE_COLUMNS = ("billing_month", "month", "usage_month", "period_start", "usage_date", "date")
CHART_HISTORY_MONTHS = 9
TOP_N = 10


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,  # every data value is escaped, for .j2 templates too
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict]:
    """Query result as the template's row dicts (through a polars frame, via Arrow)."""
    return read_frame(con, sql, params or []).to_dicts()


def _calendar(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, Any]:
    """The quarter in ``marts.dim_calendar``, the one owner of "complete quarter" and of the
    data's first/last and last closed month (all None before dbt built it)."""
    out: dict[str, Any] = {"months_with_data": None, "is_complete": None, "first_month": None,
                           "last_month": None, "closed_through": None}
    if not fc.table_exists(con, "marts", "dim_calendar"):
        return out
    row = con.execute(
        "SELECT max(months_in_quarter_with_data) FILTER (WHERE quarter = $q), "
        "bool_or(is_quarter_complete) FILTER (WHERE quarter = $q), min(data_first_month), "
        "max(data_last_month), max(closed_through_month) FROM marts.dim_calendar",
        {"q": quarter},
    ).fetchone()
    out.update(zip(out, row, strict=True))
    return out


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
    ]


def _f(v: Any) -> float:
    return float(v) if v is not None else 0.0


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def _variance_section(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, Any]:
    if not fc.table_exists(con, "variance", "quarterly_variance"):
        return {"rows": []}
    rows = _rows(
        con,
        "SELECT * FROM variance.quarterly_variance WHERE quarter = ? "
        "ORDER BY level, team, workload, ml_model",
        [quarter],
    )
    return {"rows": rows}


def _team_actuals(con: duckdb.DuckDBPyConnection, months: tuple[date, ...]) -> list[dict]:
    return _rows(
        con,
        "SELECT team, SUM(effective_cost) AS actual_cost FROM marts.fct_costs_monthly "
        "WHERE billing_month >= ? AND billing_month < ? GROUP BY team ORDER BY 2 DESC",
        [months[0], fc.add_months(months[0], 3)],
    )


def _snapshot(con: duckdb.DuckDBPyConnection, snapshot_id: str | None) -> dict | None:
    if not snapshot_id or not fc.table_exists(con, "forecast", "forecast_snapshots"):
        return None
    rows = _rows(
        con,
        "SELECT snapshot_id, created_at, as_of_month, method, horizon "
        "FROM forecast.forecast_snapshots WHERE snapshot_id = ?",
        [snapshot_id],
    )
    return rows[0] if rows else None


def _latest_snapshot(con: duckdb.DuckDBPyConnection, after: date) -> dict | None:
    if not fc.table_exists(con, "forecast", "forecast_snapshots"):
        return None
    rows = _rows(
        con,
        "SELECT snapshot_id, created_at, as_of_month FROM forecast.forecast_snapshots "
        "WHERE as_of_month >= ? ORDER BY as_of_month DESC, created_at DESC LIMIT 1",
        [after],
    )
    return rows[0] if rows else None


def _total_forecast(
    con: duckdb.DuckDBPyConnection, snapshot_id: str, start: date | None = None,
    end: date | None = None,
) -> list[dict]:
    # the plan the variance uses: the base case (only baseline in snapshots older than it)
    return _rows(
        con,
        "SELECT month, point, lo_80, hi_80, lo_95, hi_95, method FROM forecast.forecast_values "
        "WHERE snapshot_id = ? AND level = 'total' AND scenario = (SELECT CASE WHEN count(*) > 0 "
        "THEN 'base' ELSE 'baseline' END FROM forecast.forecast_values WHERE snapshot_id = ? "
        "AND scenario = 'base') AND month >= ? AND month <= ? ORDER BY month",
        [snapshot_id, snapshot_id, start or date(1900, 1, 1), end or date(9999, 12, 1)],
    )


def _chart(
    con: duckdb.DuckDBPyConnection,
    months: tuple[date, ...],
    lock: dict | None,
    outlook: dict | None,
    currency: str | None,
) -> dict | None:
    start = fc.add_months(months[0], -CHART_HISTORY_MONTHS)
    end = months[-1]
    series: list[LineSeries] = []
    if outlook:
        end = max(end, outlook["as_of_month"])
    actual = _rows(
        con,
        "SELECT CAST(date_trunc('month', billing_month) AS DATE) AS month, "
        "SUM(effective_cost) AS cost FROM marts.fct_costs_monthly "
        "WHERE billing_month >= ? AND billing_month < ? GROUP BY 1 ORDER BY 1",
        [start, fc.add_months(end, 1)],
    )
    series.append(LineSeries("Actual", "actual", {r["month"]: _f(r["cost"]) for r in actual}))
    if lock:
        rows = _total_forecast(con, lock["snapshot_id"], months[0], months[-1])
        series.append(
            LineSeries(
                f"Locked forecast (as of {lock['as_of_month']:%b %Y})", "forecast",
                {r["month"]: _f(r["point"]) for r in rows},
                {r["month"]: _f(r["lo_80"]) for r in rows},
                {r["month"]: _f(r["hi_80"]) for r in rows},
            )
        )
    if outlook and (not lock or outlook["snapshot_id"] != lock["snapshot_id"]):
        rows = _total_forecast(con, outlook["snapshot_id"])
        series.append(
            LineSeries(
                f"Latest outlook (as of {outlook['as_of_month']:%b %Y})", "outlook",
                {r["month"]: _f(r["point"]) for r in rows},
                {r["month"]: _f(r["lo_80"]) for r in rows},
                {r["month"]: _f(r["hi_80"]) for r in rows},
            )
        )
    if not any(s.points for s in series):
        return None
    return line_chart(series, currency=currency, highlight=(months[0], months[-1]))


def _waste_section(
    con: duckdb.DuckDBPyConnection, months: tuple[date, ...]
) -> tuple[dict | None, str | None]:
    if not fc.table_exists(con, "marts", "fct_idle_waste"):
        return None, "marts.fct_idle_waste does not exist (waste mart not built)"
    cols = _columns(con, "marts", "fct_idle_waste")
    needed = {"team", "waste_type", "wasted_cost"}
    if not needed <= set(cols):
        missing = ", ".join(sorted(needed - set(cols)))
        return None, f"marts.fct_idle_waste lacks column(s) {missing}"
    df = read_frame(con, "SELECT * FROM marts.fct_idle_waste")
    date_col = next((c for c in WASTE_DATE_COLUMNS if c in cols), None)
    scope = "all rows of marts.fct_idle_waste (the table has no period column)"
    if date_col:
        month = pl.col(date_col).dt.month_start().cast(pl.Date)
        df = df.filter(pl.col(date_col).is_not_null() & month.is_in(list(months)))
        scope = f"rows of marts.fct_idle_waste with {date_col} in the quarter"
    cost = pl.col("wasted_cost").fill_null(0)
    total = Decimal(df["wasted_cost"].fill_null(0).sum() or 0)

    def group(key: str) -> list[dict]:
        # first-seen order among equal costs, as the rows come (stable sorts throughout)
        return (df.group_by(key, maintain_order=True)
                .agg(cost.sum().alias("cost"), pl.len().alias("n"))
                .rename({key: "name"})
                .sort("cost", descending=True, maintain_order=True)
                .to_dicts())

    shown = ("provider", "resource_id", "team", "ml_model", "waste_type", "wasted_cost",
             "recommended_action", "severity")
    keys = ["provider", "resource_id", "team", "ml_model", "waste_type"]
    # one line per resource and waste type over the quarter (the mart has a row per month);
    # the action text of its costliest row
    wide = df.with_columns([pl.lit(None).alias(c) for c in shown if c not in df.columns])
    top = (wide.sort(cost, descending=True, maintain_order=True)
           .group_by(keys, maintain_order=True)
           .agg(*(pl.col(c).first() for c in shown if c not in keys and c != "wasted_cost"),
                cost.sum().alias("wasted_cost"), pl.len().alias("rows"))
           .sort("wasted_cost", descending=True, maintain_order=True)
           .head(TOP_N).to_dicts())
    rows = df.height
    return {
        "total": total,
        "count": rows,
        "by_type": group("waste_type"),
        "by_team": group("team")[:TOP_N],
        "top": top,
        "scope": scope,
        "has_severity": "severity" in cols,
    }, None


def _coverage_section(
    con: duckdb.DuckDBPyConnection, months: tuple[date, ...]
) -> tuple[dict | None, str | None]:
    if not fc.table_exists(con, "marts", "rpt_attribution_coverage"):
        return None, (
            "marts.rpt_attribution_coverage does not exist (attribution report not built)"
        )
    cols = _columns(con, "marts", "rpt_attribution_coverage")
    methods = ["tag_cost", "tag_alias_cost", "account_map_cost", "resource_rule_cost",
               "shared_split_cost", "unallocated_cost"]
    if set(methods + ["total_effective_cost", "billing_month", "provider"]) <= set(cols):
        return _coverage_summary(con, months, "tag_unregistered_cost" in cols), None
    rows = _rows(con, "SELECT * FROM marts.rpt_attribution_coverage")
    scope = "all rows"
    if "billing_month" in cols:
        keep = set(months)
        rows = [
            r for r in rows if r["billing_month"] and fc.month_start(r["billing_month"]) in keep
        ]
        scope = "rows of the quarter's months"
    return {"columns": cols, "rows": rows[:50], "truncated": len(rows) > 50, "scope": scope}, None


# Column order of the summary query below.
COVERAGE_METHODS = ["Tags", "Account map", "Resource rule", "Shared split", "Unallocated"]
COVERAGE_SQL = """SELECT provider, billing_currency, sum(total_effective_cost),
                  sum(tag_cost + tag_alias_cost), sum(account_map_cost),
                  sum(resource_rule_cost), sum(shared_split_cost), sum(unallocated_cost)
            FROM marts.rpt_attribution_coverage
            WHERE billing_month IN (?, ?, ?)
            GROUP BY ALL ORDER BY 3 DESC"""
# "Tags" with the tags naming unregistered teams (open world, docs/attribution.md).
COVERAGE_SQL_OPEN_WORLD = COVERAGE_SQL.replace(
    "tag_cost + tag_alias_cost", "tag_cost + tag_alias_cost + tag_unregistered_cost")


def _coverage_summary(con: duckdb.DuckDBPyConnection, months: tuple[date, ...],
                      has_unregistered: bool = False) -> dict:
    """The quarter per provider: how much effective cost each attribution method explains.
    "Tags" includes tags naming unregistered teams (open world) where the mart has them."""
    rows = con.execute(
        (COVERAGE_SQL_OPEN_WORLD if has_unregistered else COVERAGE_SQL),
        list(months),
    ).fetchall()
    out = []
    for provider, currency, total, *parts in rows:
        shares = [(_pct_of(p, total)) for p in parts]
        out.append({"provider": provider, "currency": currency, "total": total,
                    "shares": shares,
                    "covered": _pct_of(total - (parts[-1] or Decimal(0)), total)})
    return {"summary": out, "methods": COVERAGE_METHODS,
            "scope": "effective cost of the quarter, by how its team was found"}


def _pct_of(part: Decimal | None, total: Decimal | None) -> Decimal | None:
    if part is None or not total:
        return None
    return (Decimal(part) * 100 / Decimal(total)).quantize(Decimal("0.1"))


def _freshness(
    con: duckdb.DuckDBPyConnection, calendar: dict[str, Any]
) -> tuple[list[tuple[str, Any]], list[dict]]:
    items: list[tuple[str, Any]] = []
    providers: list[dict] = []
    items.append(("Actuals through (billing month)", month_label(calendar["last_month"])))
    items.append(("Actuals since", month_label(calendar["first_month"])))
    items.append(("Last closed calendar month", month_label(calendar["closed_through"])))
    if fc.table_exists(con, "meta", "deliveries"):
        try:
            providers = _rows(
                con,
                "SELECT provider, max(billing_period) AS latest_period, "
                "max(loaded_at) AS last_loaded FROM meta.deliveries WHERE is_current "
                "GROUP BY provider ORDER BY provider",
            )
        except duckdb.Error:
            providers = []
    if fc.table_exists(con, "meta", "load_ledger"):
        try:
            led = con.execute(
                "SELECT max(loaded_at), count(*) FILTER (WHERE status = 'loaded'), "
                "count(*) FILTER (WHERE status = 'quarantined') FROM meta.load_ledger"
            ).fetchall()[0]
            items.append(("Last file loaded at (UTC)", led[0]))
            items.append(("Files loaded / quarantined", f"{led[1]:,} / {led[2]:,}"))
        except duckdb.Error:
            pass
    return items, providers


# --------------------------------------------------------------------------------------------
# Context and rendering
# --------------------------------------------------------------------------------------------


def build_context(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, Any]:
    """Everything the template shows, read from the warehouse (no writes)."""
    months = fc.parse_quarter(quarter)
    ctx: dict[str, Any] = {
        "quarter": quarter,
        "months": months,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "skipped": [],
        "currency": None,
        "headline": None,
        "chart": None,
        "waterfall": None,
        "effects": [],
        "teams": [],
        "movers_models": [],
        "movers_workloads": [],
        "lock": None,
        "outlook": None,
        "variance_run": None,
        "waste": None,
        "coverage": None,
        "accuracy": None,
        "freshness": [],
        "providers": [],
        "has_costs": fc.table_exists(con, "marts", "fct_costs_monthly"),
        "has_variance": False,
        "calendar": _calendar(con, quarter),
    }
    skipped: list[dict[str, str]] = ctx["skipped"]
    if not ctx["has_costs"]:
        skipped.append({"area": "Costs", "reason": "marts.fct_costs_monthly does not exist"})
        return ctx

    cur = con.execute(
        "SELECT billing_currency, SUM(effective_cost) FROM marts.fct_costs_monthly "
        "WHERE billing_month >= ? AND billing_month < ? GROUP BY 1 ORDER BY 2 DESC",
        [months[0], fc.add_months(months[0], 3)],
    ).fetchall()
    ctx["currency"] = cur[0][0] if cur else None
    if len(cur) > 1:
        skipped.append({"area": "Currency", "reason": "actuals span several billing currencies ("
                        + ", ".join(str(c[0]) for c in cur) + "); amounts are added as-is"})

    run = var.latest_run(con, quarter)
    ctx["variance_run"] = run
    if run and run["status"] != "ok":
        skipped.append({"area": "Variance", "reason": f"{run['status']}: {run['reason']}"})
    elif run is None:
        skipped.append({"area": "Variance",
                        "reason": f"no variance run recorded for {quarter} yet"})

    variance_rows = _variance_section(con, quarter)["rows"]
    total = next((r for r in variance_rows if r["level"] == "total"), None)
    lock = _snapshot(con, total["snapshot_id"] if total else fc.locked_snapshot(con, quarter))
    ctx["lock"] = lock
    outlook = _latest_snapshot(con, months[-1])
    ctx["outlook"] = outlook
    if total:
        ctx["has_variance"] = True
        ctx["currency"] = total["currency"] or ctx["currency"]
        ctx["headline"] = total
        effects = [(EFFECT_LABELS[e], total[e]) for e in var.EFFECTS]
        ctx["effects"] = [
            {"label": label, "value": v,
             "share": (v / total["variance_vs_forecast"] * 100)
             if total["variance_vs_forecast"] else None}
            for label, v in effects
        ]
        ctx["waterfall"] = waterfall_chart(
            [(label, _f(v)) for label, v in effects if v],
            start=("Forecast", _f(total["forecast_cost"])),
            end=("Actual", _f(total["actual_cost"])),
            currency=ctx["currency"],
        )
        ctx["teams"] = sorted(
            (r for r in variance_rows if r["level"] == "team"),
            key=lambda r: r["actual_cost"], reverse=True,
        )

        def movers(level: str) -> list[dict]:
            rows = [r for r in variance_rows if r["level"] == level]
            rows.sort(key=lambda r: abs(r["variance_vs_forecast"]), reverse=True)
            return [r for r in rows if r["variance_vs_forecast"]][:TOP_N]

        ctx["movers_models"] = movers("team_model")
        ctx["movers_workloads"] = movers("team_workload")
    else:
        # no variance: still show actuals against the budget, without forecast columns
        budgets, _, _ = var.budgets_for_quarter(con, quarter)
        actuals = {r["team"]: r["actual_cost"] for r in _team_actuals(con, months)}
        teams = sorted(set(actuals) | set(budgets), key=lambda t: -actuals.get(t, 0))
        ctx["teams"] = [
            _budget_only_row(t, actuals.get(t, Decimal(0)), budgets.get(t)) for t in teams
        ]
        if ctx["teams"]:
            ctx["headline"] = _budget_only_row(
                None, sum(actuals.values(), Decimal(0)),
                sum(budgets.values(), Decimal(0)) if budgets else None,
            )
    if lock is None:
        skipped.append({"area": "Forecast", "reason": f"no locked forecast for {quarter}"})
    ctx["chart"] = _chart(con, months, lock, outlook, ctx["currency"])

    for run_row in fc.skipped_runs(con, limit=5):
        as_of = run_row["as_of_month"] or run_row["requested_as_of"] or "latest"
        skipped.append({
            "area": "Forecast run",
            "reason": f"{run_row['context']} (as of {as_of}) skipped at "
                      f"{run_row['started_at']:%Y-%m-%d %H:%M}: {run_row['reason']}",
        })
    ctx["waste"], why = _waste_section(con, months)
    if why:
        skipped.append({"area": "Idle waste", "reason": why})
    ctx["coverage"], why = _coverage_section(con, months)
    if why:
        skipped.append({"area": "Attribution coverage", "reason": why})
    ctx["accuracy"], why = accuracy_section(con, (outlook or lock or {}).get("snapshot_id"))
    if why:
        skipped.append({"area": "Forecast accuracy", "reason": why})
    ctx["freshness"], ctx["providers"] = _freshness(con, ctx["calendar"])
    return ctx


def _budget_only_row(team: str | None, actual: Decimal, budget: Decimal | None) -> dict:
    var_b = actual - budget if budget is not None else None
    return {
        "team": team, "actual_cost": actual, "forecast_cost": None, "budget_amount": budget,
        "variance_vs_forecast": None, "variance_vs_forecast_pct": None,
        "variance_vs_budget": var_b,
        "variance_vs_budget_pct": (var_b / budget * 100) if budget else None,
        "volume_effect": None, "mix_effect": None, "price_effect": None,
        "new_discontinued_effect": None, "unquantified_effect": None, "commitment_effect": None,
        "months_outside_80": None,
    }


def render_quarterly_report(con: duckdb.DuckDBPyConnection, quarter: str, out_dir: Path) -> Path:
    """Write ``out_dir/mlcost-report-<quarter>.html`` and return its path.

    A single self-contained file (inline CSS and SVG, no scripts, no network). Sections whose
    data is missing are replaced by a note in "What was skipped and why".
    """
    fc.parse_quarter(quarter)
    html = _env().get_template("quarterly_report.html.j2").render(**build_context(con, quarter))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"mlcost-report-{quarter}.html"
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    return path
