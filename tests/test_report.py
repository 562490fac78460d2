"""Tests for the HTML report and the Evidence exports."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.lib import forecast as fc
from dagster_project.lib import variance as var
from dagster_project.lib.report import export_evidence_sources, render_quarterly_report
from dagster_project.lib.report import formatting as fmt

try:
    import planning_marts
    from test_forecast import make_db
except ImportError:  # pragma: no cover - tests/ imported as a package
    from tests import planning_marts
    from tests.test_forecast import make_db

HOSTILE = "<script>alert(\"x\")</script> \"'&"
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &#34;&#39;&amp;"
REPORTS = Path(__file__).resolve().parent.parent / "reports"


@pytest.fixture(scope="module")
def warehouse():
    con = make_db(duckdb.connect())
    con.execute("UPDATE marts.fct_costs_monthly SET team = ? WHERE team = 'vision'", [HOSTILE])
    con.execute("UPDATE raw.budgets SET team = ? WHERE team = 'vision'", [HOSTILE])
    con.execute(
        """
        CREATE TABLE marts.fct_idle_waste (
            provider VARCHAR, resource_id VARCHAR, team VARCHAR, ml_model VARCHAR,
            waste_type VARCHAR, wasted_cost DECIMAL(38,24), recommended_action VARCHAR)
        """
    )
    con.executemany(
        "INSERT INTO marts.fct_idle_waste VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            ("aws", "arn:aws:sagemaker:us-east-1:1:endpoint/ranker", "search-ranking",
             "ranker-v2", "idle_endpoint", Decimal("1234.5"), "Delete the endpoint"),
            ("gcp", "<img src=x onerror=alert(1)>", HOSTILE, "detector", "idle_notebook",
             Decimal("99.25"), "Stop <b>now</b>"),
        ],
    )
    planning_marts.build(con)
    fc.ensure_locked_forecast(con, "2025Q3")  # forecasting locks, variance reads the lock
    assert var.compute_quarterly_variance(con, "2025Q3").status == "ok"
    fc.build_forecasts(con, as_of_month=fc.parse_quarter("2025Q4")[2])  # latest outlook
    yield con
    con.close()


def test_formatting():
    assert fmt.money(Decimal("1234567.891")) == "$1,234,567.89"
    assert fmt.money(Decimal("-1234.5"), "EUR", 0) == "\u2212\u20ac1,234"
    assert fmt.signed_money(Decimal("12"), "USD") == "+$12.00"
    assert fmt.money(Decimal("1000"), "CAD") == "1,000.00 CAD"
    assert fmt.money(None) == "\u2014"
    assert fmt.pct(Decimal("-12.345")) == "\u221212.3%"
    assert fmt.cell(Decimal("0.5"), "coverage_pct") == "0.50%"


def test_report_renders_escaped_and_self_contained(warehouse, tmp_path):
    path = render_quarterly_report(warehouse, "2025Q3", tmp_path / "out")
    assert path == tmp_path / "out" / "mlcost-report-2025Q3.html"
    html = path.read_text(encoding="utf-8")
    # hostile values are escaped everywhere they appear, never emitted raw
    assert ESCAPED in html
    assert "<script" not in html.lower()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Stop &lt;b&gt;now&lt;/b&gt;" in html
    # no network assets
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    assert "<link" not in html and "@import" not in html
    # headline numbers formatted with separators and currency, matching the tables
    total = warehouse.execute(
        "SELECT actual_cost, forecast_cost, budget_amount FROM variance.quarterly_variance "
        "WHERE quarter = '2025Q3' AND level = 'total'"
    ).fetchall()[0]
    for value in total:
        assert fmt.money(value, "USD") in html  # table row (2 decimals)
        assert fmt.money(value, "USD", 0) in html  # headline card
    assert "$360,000" in html
    for section in ("Headline", "Monthly actual vs forecast", "Why actual differs",
                    "By team", "Top movers", "Idle waste", "Attribution coverage",
                    "Data freshness", "What was skipped and why"):
        assert section in html
    assert html.count("<svg") == 2 and "<polygon" in html  # line chart band + waterfall
    assert "$1,334" in html and "$1,234.50" in html  # idle waste total and top finding
    assert "rpt_attribution_coverage does not exist" in html
    # months in the band out of the quarter's months with data (marts.dim_calendar)
    outside = warehouse.execute(
        "SELECT months_outside_80 FROM variance.quarterly_variance "
        "WHERE quarter = '2025Q3' AND level = 'total'").fetchone()[0]
    assert f"{3 - outside} of 3 months inside the 80% band" in html
    # freshness: the data's first and last month come from the calendar model
    assert "Jan 2024" in html and "Dec 2025" in html


def test_report_for_a_skipped_quarter(warehouse, tmp_path):
    var.compute_quarterly_variance(warehouse, "2026Q1")  # incomplete -> skipped
    html = render_quarterly_report(warehouse, "2026Q1", tmp_path).read_text()
    assert "quarter 2026Q1 is incomplete" in html
    assert "Variance decomposition not available" in html
    assert "<script" not in html.lower()


def test_report_without_any_tables(tmp_path):
    html = render_quarterly_report(duckdb.connect(), "2025Q1", tmp_path).read_text()
    assert "marts.fct_costs_monthly does not exist" in html


def test_headline_counts_the_months_dim_calendar_has(warehouse, tmp_path):
    """The "N of M months" card takes M from marts.dim_calendar, not a hard-coded 3."""
    warehouse.execute("CREATE TABLE calendar_backup AS SELECT * FROM marts.dim_calendar")
    try:
        warehouse.execute("UPDATE marts.dim_calendar SET months_in_quarter_with_data = 2 "
                          "WHERE quarter = '2025Q3'")
        html = render_quarterly_report(warehouse, "2025Q3", tmp_path).read_text()
    finally:
        warehouse.execute("DELETE FROM marts.dim_calendar")
        warehouse.execute("INSERT INTO marts.dim_calendar SELECT * FROM calendar_backup")
        warehouse.execute("DROP TABLE calendar_backup")
    assert "of 2 months inside the 80% band" in html
    with pytest.raises(ValueError):
        render_quarterly_report(duckdb.connect(), "2025-1", tmp_path)


def test_attribution_coverage_rendered_when_present(tmp_path):
    con = make_db(duckdb.connect())
    con.execute(
        "CREATE TABLE marts.rpt_attribution_coverage AS SELECT DATE '2025-08-01' AS "
        "billing_month, 'aws' AS provider, 0.9731::DECIMAL(9,4) AS attributed_share_pct"
    )
    html = render_quarterly_report(con, "2025Q3", tmp_path).read_text()
    assert "attributed_share_pct" in html and "0.97%" in html


# --------------------------------------------------------------------------------------------
# Evidence exports
# --------------------------------------------------------------------------------------------


def _sum(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()[0][0]


def test_evidence_exports_match_tables(warehouse, tmp_path):
    paths = export_evidence_sources(warehouse, tmp_path)
    names = {p.stem for p in paths}
    assert names == {"costs_monthly", "forecast", "backtest_metrics", "variance",
                     "variance_decomposition", "idle_waste"}
    costs = pq.read_table(tmp_path / "costs_monthly.parquet")
    assert costs.schema.field("effective_cost").type == pa.decimal128(38, 24)
    assert costs.schema.field("billing_month").type == pa.date32()
    assert costs.num_rows == _sum(warehouse, "SELECT count(*) FROM marts.fct_costs_monthly")
    assert sum(costs.column("effective_cost").to_pylist()) == _sum(
        warehouse, "SELECT sum(effective_cost) FROM marts.fct_costs_monthly"
    )
    variance = pq.read_table(tmp_path / "variance.parquet")
    assert variance.schema.field("variance_vs_forecast").type == pa.decimal128(38, 24)
    assert sum(variance.column("actual_cost").to_pylist()) == _sum(
        warehouse, "SELECT sum(actual_cost) FROM variance.quarterly_variance"
    )
    forecast = pq.read_table(tmp_path / "forecast.parquet")
    assert forecast.schema.field("point").type == pa.decimal128(38, 6)
    chosen = warehouse.execute(
        "SELECT snapshot_id FROM forecast.forecast_locks UNION SELECT snapshot_id FROM "
        "(SELECT snapshot_id FROM forecast.forecast_snapshots "
        "ORDER BY as_of_month DESC, created_at DESC LIMIT 1)"
    ).fetchall()
    ids = [r[0] for r in chosen]
    assert len(ids) == 2 and set(forecast.column("snapshot_id").to_pylist()) == set(ids)
    expected = _sum(
        warehouse,
        "SELECT sum(point) FROM forecast.forecast_values WHERE list_contains(?, snapshot_id)",
        [ids],
    )
    assert sum(forecast.column("point").to_pylist()) == expected
    latest = {r["locked_quarter"]: r["is_latest"] for r in forecast.select(
        ["locked_quarter", "is_latest"]).to_pylist()}
    assert latest == {"2025Q3": False, None: True}
    decomposition = pq.read_table(tmp_path / "variance_decomposition.parquet")
    assert sum(decomposition.column("total_variance").to_pylist()) == _sum(
        warehouse, "SELECT sum(variance_vs_forecast) FROM variance.quarterly_variance "
        "WHERE level = 'total'"
    )
    waste = pq.read_table(tmp_path / "idle_waste.parquet")
    assert waste.num_rows == 2


def test_evidence_exports_without_optional_tables(tmp_path):
    paths = export_evidence_sources(duckdb.connect(), tmp_path)
    waste = pq.read_table(tmp_path / "idle_waste.parquet")
    assert waste.num_rows == 0 and "wasted_cost" in waste.column_names
    assert all(p.exists() for p in paths)
    assert pq.read_table(tmp_path / "variance.parquet").num_rows == 0


def test_evidence_source_queries_run_against_exports(warehouse, tmp_path, monkeypatch):
    project = tmp_path / "reports"
    project.mkdir()
    export_evidence_sources(warehouse, tmp_path / "data" / "exports")
    monkeypatch.chdir(project)  # `npm run sources` runs in reports/
    sql_files = sorted((REPORTS / "sources" / "mlcost").glob("*.sql"))
    assert {p.stem for p in sql_files} == {"costs_monthly", "forecast", "backtest_metrics",
                                            "variance", "variance_decomposition", "idle_waste"}
    con = duckdb.connect()
    results = {}
    for path in sql_files:
        cur = con.execute(path.read_text())
        cols = [d[0] for d in cur.description]
        results[path.stem] = (cols, cur.fetchall())
    cols, rows = results["costs_monthly"]
    i = cols.index("effective_cost")
    total = float(_sum(warehouse, "SELECT sum(effective_cost) FROM marts.fct_costs_monthly"))
    assert sum(r[i] for r in rows) == pytest.approx(total, rel=1e-12)
    cols, rows = results["variance"]
    assert len(rows) == _sum(warehouse, "SELECT count(*) FROM variance.quarterly_variance")
    # every `mlcost.<query>` a page uses has a source file
    used = set()
    for page in (REPORTS / "pages").glob("*.md"):
        used |= set(re.findall(r"mlcost\.(\w+)", page.read_text()))
    assert used and used <= set(results)
    conn = (REPORTS / "sources" / "mlcost" / "connection.yaml").read_text()
    assert "type: duckdb" in conn and "name: mlcost" in conn


def test_report_and_exports_on_a_read_only_warehouse(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    con = planning_marts.build(make_db(duckdb.connect(str(db))))
    fc.ensure_locked_forecast(con, "2025Q3")
    assert var.compute_quarterly_variance(con, "2025Q3").status == "ok"
    con.close()
    ro = duckdb.connect(str(db), read_only=True)
    html = render_quarterly_report(ro, "2025Q3", tmp_path / "r").read_text()
    assert "Locked forecast" in html
    assert len(export_evidence_sources(ro, tmp_path / "e")) == 6
    ro.close()


def test_report_without_forecast_still_compares_with_budget(tmp_path):
    con = make_db(duckdb.connect())
    con.execute("INSERT INTO raw.budgets VALUES ('2024Q1', 'recsys', '1000.00', 'USD')")
    planning_marts.build(con)
    assert fc.ensure_locked_forecast(con, "2024Q1") is None  # no history before 2024-01
    res = var.compute_quarterly_variance(con, "2024Q1")
    assert res.status == "skipped" and "no locked forecast" in res.reason
    actual = _sum(con, "SELECT sum(effective_cost) FROM marts.fct_costs_monthly "
                  "WHERE team = 'recsys' AND billing_month < DATE '2024-04-01'")
    html = render_quarterly_report(con, "2024Q1", tmp_path).read_text()
    assert fmt.signed_money(actual - 1000, "USD") in html  # recsys vs budget
    assert "$1,000.00" in html and "no locked forecast" in html


def test_attribution_coverage_summary_per_provider(tmp_path):
    """With the attribution mart's real columns the report shows method shares of the quarter."""
    con = make_db(duckdb.connect())
    con.execute(
        """CREATE TABLE marts.rpt_attribution_coverage AS
           SELECT DATE '2025-08-01' AS billing_month, 'aws' AS provider, 'USD' AS billing_currency,
                  200.0::DECIMAL(38,24) AS total_effective_cost, 100.0::DECIMAL(38,24) AS tag_cost,
                  50.0::DECIMAL(38,24) AS tag_alias_cost, 30.0::DECIMAL(38,24) AS account_map_cost,
                  0.0::DECIMAL(38,24) AS resource_rule_cost,
                  10.0::DECIMAL(38,24) AS shared_split_cost,
                  10.0::DECIMAL(38,24) AS unallocated_cost"""
    )
    html = render_quarterly_report(con, "2025Q3", tmp_path).read_text()
    # tags 150/200 = 75.0 %, account map 15.0 %, shared 5.0 %, unallocated 5.0 %, attributed 95 %
    for expected in ("75.0%", "15.0%", "5.0%", "95.0%"):
        assert expected in html
