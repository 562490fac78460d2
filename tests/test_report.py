"""Tests for the quarterly review pack (lib/report: HTML, PDF, `mlcost report`) and the
Evidence exports.

Two warehouses:
* `warehouse`: the synthetic history of test_forecast (2024-01..2025-12) with a real locked
  forecast and variance for 2025Q3, a hostile team name, and the review marts of #17 made
  here from those tables with the contract's columns (R1/R2 build the real ones in dbt);
* `demo_copy`: a scratch copy of the small demo (Jun-Sep 2026) with marts.dim_calendar built
  by dbt and no review mart, for the incomplete and empty quarters and the bad requests.
"""

from __future__ import annotations

import csv
import fcntl
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.exit_codes import MISSING_INPUT, ExitError
from dagster_project.lib import forecast as fc
from dagster_project.lib import variance as var
from dagster_project.lib.report import (
    ReviewRequestError,
    export_evidence_sources,
    render_review_pack,
)
from dagster_project.lib.report import formatting as fmt
from dagster_project.lib.report.commentary import sentence
from dagster_project.lib.report.notes import parse
from dagster_project.lib.report.render import ANCHORS
from dagster_project.lib.report.sections.data_quality import coverage_summary

from . import planning_marts
from .conftest import run_dbt
from .test_forecast import make_db

HOSTILE = "<script>alert(\"x\")</script> \"'&"
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &#34;&#39;&amp;"
REPORTS = Path(__file__).resolve().parent.parent / "reports"
MLCOST = str(Path(sys.executable).parent / "mlcost")
TITLES = ("Headline", "Variance bridge", "Top drivers", "Commentary", "Forecast accuracy",
          "18-month outlook", "Anomalies", "Waste and savings", "Unit costs", "Data quality")

# The review marts of the contract (COMMON.md 1-11), made from the variance tables.
REVIEW_MARTS = [
    """create table marts.rpt_review_headline as
    select quarter, level, case when level = 'total' then null else team end as team, currency,
      actual_cost, forecast_cost, budget_amount, variance_vs_forecast, variance_vs_forecast_pct,
      variance_vs_budget, variance_vs_budget_pct,
      abs(variance_vs_forecast) >= 1000 and abs(variance_vs_forecast_pct) >= 5
        as is_material_vs_forecast,
      coalesce(abs(variance_vs_budget) >= 1000 and abs(variance_vs_budget_pct) >= 5, false)
        as is_material_vs_budget,
      case when variance_vs_forecast < 0 then 'favourable'
           when variance_vs_forecast > 0 then 'unfavourable' else 'on_plan' end as forecast_flag,
      case when budget_amount is null then 'no_budget' when variance_vs_budget < 0
           then 'favourable' when variance_vs_budget > 0 then 'unfavourable' else 'on_budget'
      end as budget_flag,
      1000::decimal(38,24) as materiality_amount, 5::decimal(38,24) as materiality_pct,
        3 as months_with_data,
      true as is_quarter_complete, date '2025-09-01' as data_through, snapshot_id
    from variance.quarterly_variance where level in ('total', 'team')""",
    """create table marts.rpt_review_bridge as
    select quarter, level, case when level = 'total' then null else team end as team,
      ml_model, currency, forecast_cost, volume_effect, mix_effect, price_effect,
      0::decimal(38,24) as commitment_effect, new_discontinued_effect, unquantified_effect,
        actual_cost,
      variance_vs_forecast, abs(variance_vs_forecast) >= 1000 as is_material
    from variance.quarterly_variance where level in ('total', 'team', 'team_model')""",
    """create table marts.fct_variance_drivers as
    with agg as (
      select team, ml_model, provider, service_name, pricing_unit,
        billing_currency as currency, sum(effective_cost) as actual_cost
      from marts.fct_costs_monthly
      where billing_month between date '2025-07-01' and date '2025-09-01'
      group by all)
    select '2025Q3' as quarter, team, ml_model, 'sku' as driver_kind,
      service_name || ' / ' || pricing_unit as driver_key, provider, service_name,
      null as resource_id, pricing_unit as sku, currency, actual_cost,
      (actual_cost * 0.9)::decimal(38,24) as expected_cost,
        (actual_cost * 0.1)::decimal(38,24) as delta_cost,
      0.25::decimal(38,24) as share_of_variance,
      cast(row_number() over (partition by team, ml_model order by actual_cost desc)
           as integer) as driver_rank, md5(team || service_name) as driver_id
    from agg""",
    """create table marts.rpt_review_accuracy as
    select level, horizon, 'all' as quarter_scope, 12 as n_points,
      (2.0 + horizon)::decimal(38,24) as wape, -1.5::decimal(38,24) as bias_pct,
      80.0::decimal(38,24) as coverage_80, 95.0::decimal(38,24) as coverage_95,
      4 as snapshots
    from (values ('total'), ('team')) l(level), range(1, 7) h(horizon)""",
    """create table marts.rpt_review_outlook as
    select 'snap-1' as snapshot_id, date '2025-12-01' as as_of_month, s.scenario,
      (date '2026-01-01' + to_months(m.i))::date as month,
      (100000 + 1000 * m.i + s.k)::decimal(38,24) as point,
        (90000 + 1000 * m.i)::decimal(38,24) as lo_80,
      (110000 + 1000 * m.i)::decimal(38,24) as hi_80, (85000 + 1000 * m.i)::decimal(38,24) as lo_95,
      (115000 + 1000 * m.i)::decimal(38,24) as hi_95, 'USD' as currency
    from (values ('base', 0), ('best', -5000), ('worst', 5000)) s(scenario, k), range(18) m(i)
    union all
    select 'snap-1', date '2025-12-01', 'actual', billing_month, sum(effective_cost),
      null, null, null, null, 'USD'
    from marts.fct_costs_monthly where billing_month >= date '2025-01-01' group by all""",
    """create table marts.rpt_review_anomalies as
    select '2025Q3' as quarter, 'a1' as anomaly_id, 'aws' as provider, 'HOSTILE' as team,
      'SageMaker' as service_name, date '2025-08-03' as start_date,
      date '2025-08-05' as end_date, 3 as days, 'spike' as direction,
      300::decimal(38,24) as expected_cost, 1234.5::decimal(38,24) as actual_cost,
        934.5::decimal(38,24) as cost_impact,
      7.5 as score, false as is_open, 'arn:endpoint/<b>x</b>' as top_resource_id,
      'USD' as billing_currency, 1 as anomaly_rank""",
    """create table marts.rpt_review_savings as
    select '2025Q3' as quarter, * from (values
      ('recsys', 'idle_waste', 'USD', 4, 4.37::decimal(38,24), null::decimal(38,24),
        null::decimal(38,24), 0),
      ('recsys', 'spot', 'USD', 2, null::decimal(38,24), 1200.5::decimal(38,24),
        300.25::decimal(38,24), 1))
      v(team, source, billing_currency, items, waste_found, estimated_monthly_saving,
        realised_monthly_saving, implemented_items)""",
    """create table marts.rpt_review_unit_costs as
    select q.quarter, 'two-tower' as ml_model, 'recsys' as team, 'serving' as workload,
      '1k predictions' as unit, 'real-time' as unit_detail, 1000::decimal(38,24) as units,
      q.cost::decimal(38,24) as cost, (q.cost / 1000)::decimal(38,24) as cost_per_unit,
        'USD' as billing_currency,
      null::decimal(38,24) as prev_quarter_cost_per_unit, null::decimal(38,24) as change_pct
    from (values ('2025Q1', 40), ('2025Q2', 42), ('2025Q3', 45)) q(quarter, cost)""",
    """create table marts.rpt_review_unit_costs_unavailable as
    select '2025Q3' as quarter, 'detector' as ml_model, 'TB-month' as unit,
      'storage' as workload, 'no storage usage in the bill' as reason""",
    """create table marts.rpt_review_data_quality as
    select '2025Q3' as quarter, * from (values
      ('aws', 'reconciliation', 'ok', 0::decimal(38,24), 'currency', 'every slice reconciled', 120),
      ('gcp', 'late_deliveries', 'warn', 1::decimal(38,24), 'count',
        '2025-08 delivered on 2025-09-09',
       1)) v(provider, check_name, status, value, unit, detail, checked_rows)""",
]
FACTS = [
    {"quarter": "2025Q3", "level": "total", "team": None, "ml_model": None, "currency": "USD",
     "variance_vs_forecast": Decimal("12345.6"), "variance_vs_forecast_pct": Decimal("8.04"),
     "direction": "over", "dominant_effect": "volume_effect",
     "dominant_effect_amount": Decimal("9000"), "top_driver_key": "recsys-two-tower serving",
     "top_driver_kind": "resource", "top_driver_delta": Decimal("5000"),
     "top_driver_growth_pct": Decimal("14.04"), "fact_rank": 1,
     "source_table": "marts.rpt_review_bridge"},
    {"quarter": "2025Q3", "level": "team", "team": HOSTILE, "ml_model": None,
     "currency": "USD", "variance_vs_forecast": Decimal("-4.374"),
     "variance_vs_forecast_pct": Decimal("-6"), "direction": "under",
     "dominant_effect": "price_effect", "dominant_effect_amount": Decimal("-4"),
     "top_driver_key": None, "top_driver_kind": None, "top_driver_delta": None,
     "top_driver_growth_pct": None, "fact_rank": 2, "source_table": "marts.rpt_review_bridge"},
]
SENTENCES = [
    "Total +$12.3k (+8.0%) over forecast, mostly volume (+$9.0k): resource "
    "recsys-two-tower serving grew 14.0%.",
    f"{HOSTILE} \u2212$4.37 (\u22126.0%) under forecast, mostly price (\u2212$4.00).",
]


def _add_review_marts(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in REVIEW_MARTS:
        con.execute(ddl)
    con.execute("update marts.rpt_review_anomalies set team = ?", [HOSTILE])
    types = {"fact_rank": "integer", "variance_vs_forecast": "decimal(38, 24)",
             "variance_vs_forecast_pct": "decimal(38, 24)",
             "dominant_effect_amount": "decimal(38, 24)", "top_driver_delta": "decimal(38, 24)",
             "top_driver_growth_pct": "decimal(38, 24)"}
    con.execute("create table marts.rpt_review_commentary_facts ("  # noqa: S608 - fixed names
                + ", ".join(f"{c} {types.get(c, 'varchar')}" for c in FACTS[0]) + ")")
    cols = list(FACTS[0])
    con.executemany("insert into marts.rpt_review_commentary_facts values ("  # noqa: S608
                    + ", ".join("?" for _ in cols) + ")", [list(f.values()) for f in FACTS])


@pytest.fixture(scope="module")
def warehouse_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("review") / "wh.duckdb"
    con = make_db(duckdb.connect(str(path)))
    con.execute("update marts.fct_costs_monthly set team = ? where team = 'vision'", [HOSTILE])
    con.execute("update raw.budgets set team = ? where team = 'vision'", [HOSTILE])
    con.execute("""create table marts.fct_idle_waste as select 'aws' as provider,
        'arn:x' as resource_id, 'recsys' as team, 'two-tower' as ml_model,
        'idle_endpoint' as waste_type, 12.5::decimal(38,24) as wasted_cost,
        'Delete it' as recommended_action""")
    planning_marts.build(con)
    fc.ensure_locked_forecast(con, "2025Q3")  # forecasting locks, variance reads the lock
    assert var.compute_quarterly_variance(con, "2025Q3").status == "ok"
    _add_review_marts(con)
    con.close()
    return path


@pytest.fixture(scope="module")
def warehouse(warehouse_file):
    con = duckdb.connect(str(warehouse_file), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def complete_pack(warehouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack")
    notes = out / "notes.md"
    notes.write_text("# Agreed\n\nRecsys <b>over</b> & fine.\n\n- follow up <img src=x>\n"
                     "- check spot\n", encoding="utf-8")
    pack = render_review_pack(warehouse, "2025Q3", out / "reports", formats=("html", "pdf"),
                              notes_path=notes)
    return pack, pack.paths["html"].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def demo_copy(demo, tmp_path_factory) -> Path:
    """The small demo with marts.dim_calendar (dbt, the clock pinned after 2026Q3)."""
    base = tmp_path_factory.mktemp("review-demo")
    wh = base / "wh.duckdb"
    shutil.copy(demo / "wh.duckdb", wh)
    res = run_dbt(wh, base / "target", ["build", "--select", "dim_calendar", "--vars",
                                        "{calendar_as_of: '2026-12-07'}"], reference_set="demo")
    assert res.success, res.output[-3000:]
    return wh


def mlcost(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLCOST_CONFIG": "", "MLCOST_REPORTS": str(cwd / "reports")}
    return subprocess.run([MLCOST, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          check=False)


# ------------------------------------------------------------------------- pure helpers


def test_money_rule():
    assert fmt.money(Decimal("1234567.891")) == "$1,234,567.89"
    assert fmt.money(Decimal("4.374")) == "$4.37"  # small amounts keep their cents
    assert fmt.money(Decimal("-1234.5"), "EUR", 0) == "\u2212\u20ac1,234"
    assert fmt.money(Decimal("1000"), "CAD") == "1,000.00 CAD"
    assert fmt.money(None) == "\u2014"
    assert fmt.compact_money(Decimal("4.374")) == "$4.37"
    assert fmt.compact_money(Decimal("12345.6"), signed=True) == "+$12.3k"
    assert fmt.compact_money(Decimal("-2500000")) == "\u2212$2.5M"
    assert fmt.pct(Decimal("-12.345")) == "\u221212.3%"
    assert fmt.typed(Decimal("0.42"), "share") == "+42.0%"
    assert fmt.typed(Decimal("0.00123"), "money4") == "$0.0012"


def test_commentary_sentences_are_deterministic_and_traceable():
    assert [sentence(f) for f in FACTS] == SENTENCES
    assert sentence(dict(FACTS[0])) == sentence(FACTS[0])


def test_notes_are_a_small_safe_subset():
    blocks = parse("# Title\nfirst line\nsecond <i>line</i>\n\n- one\n  wrapped\n* two\n")
    assert blocks == [{"kind": "h", "text": "Title"},
                      {"kind": "p", "text": "first line second <i>line</i>"},
                      {"kind": "ul", "items": ["one wrapped", "two"]}]


def test_chart_labels_from_the_warehouse_are_escaped():
    from dagster_project.lib.report import charts

    svg = charts.trend([{"quarter": "2025Q3", "s": HOSTILE, "v": Decimal("4.37")},
                        {"quarter": "2025Q4", "s": HOSTILE, "v": Decimal("5")}], "s", "v", "USD")
    assert svg.startswith("<svg") and "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert "$4.37" in svg or "$4.4" in svg  # compact money ticks, with decimals below 1,000


def test_notes_location_precedence(tmp_path, monkeypatch):
    from dagster_project.lib.report.notes import ENV, notes_location, read_notes

    monkeypatch.setenv("MLCOST_CONFIG", "")
    monkeypatch.setenv("MLCOST_LANDING", str(tmp_path / "land"))
    monkeypatch.delenv(ENV, raising=False)
    assert notes_location("2026Q3") == tmp_path / "review_notes" / "2026Q3.md"
    monkeypatch.setenv(ENV, str(tmp_path / "n-{quarter}.txt"))
    assert notes_location("2026Q3") == tmp_path / "n-2026Q3.txt"
    monkeypatch.setenv(ENV, str(tmp_path))  # a folder holding <quarter>.md
    assert notes_location("2026Q3") == tmp_path / "2026Q3.md"
    assert notes_location("2026Q3", tmp_path / "x.md") == tmp_path / "x.md"  # explicit wins
    monkeypatch.delenv(ENV)
    (tmp_path / "mlcost.toml").write_text('review_notes = "notes/{quarter}.md"\n')
    monkeypatch.setenv("MLCOST_CONFIG", str(tmp_path / "mlcost.toml"))
    assert notes_location("2026Q3") == tmp_path / "notes" / "2026Q3.md"  # relative to the file
    assert read_notes(tmp_path / "absent.md") is None
    (tmp_path / "bad.md").write_bytes(b"caf\xe9")
    assert "not UTF-8" in read_notes(tmp_path / "bad.md").problem


# ------------------------------------------------------------------------- complete quarter


def test_complete_quarter_has_every_section_in_order(complete_pack):
    pack, html = complete_pack
    assert pack.paths["html"].name == "report.html"
    assert pack.paths["html"].parent.name == "2025Q3"
    assert not pack.preliminary and pack.months_with_data == 3 and pack.unavailable == []
    found = re.findall(r'<section id="([a-z-]+)"', html)
    assert tuple(found) == ANCHORS
    assert "Preliminary" not in html and "not available yet" not in html
    for title in TITLES:
        assert f">{title}</h2>" in html
    # the charts: actual vs forecast, waterfall, accuracy, fan chart, unit-cost trend
    assert html.count("<svg") == 5 and html.count("<figure>") == 5
    # each chart's numbers as an accessible table
    assert html.count("<caption>") >= 5 and 'scope="col"' in html and 'scope="row"' in html
    # commentary: one sentence per fact, each with its source
    for text in SENTENCES:
        assert str(pytest.importorskip("markupsafe").escape(text)) in html
    assert html.count("(source: marts.rpt_review_bridge)") == 2
    # waste & savings from rpt_review_savings; unit costs with their unavailable reasons
    assert "$4.37" in html and "$1,200.50" in html and "no storage usage in the bill" in html
    assert "2025-08 delivered on 2025-09-09" in html  # data quality detail
    # beside the track record: the latest snapshot's out-of-sample backtest
    assert "Rolling-origin backtests of snapshot" in html and "80% band coverage" in html


def test_html_is_escaped_and_self_contained(complete_pack):
    _, html = complete_pack
    assert ESCAPED in html
    assert "<script" not in html.lower() and "<img" not in html and "<b>" not in html
    assert "&lt;b&gt;over&lt;/b&gt; &amp; fine." in html  # the notes, escaped
    assert "<li>follow up &lt;img src=x&gt;</li>" in html
    assert "arn:endpoint/&lt;b&gt;x&lt;/b&gt;" in html
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    assert "@media print" in html and "size: A4" in html


def test_pdf_has_the_titles_and_the_headline_total(complete_pack, warehouse):
    from pypdf import PdfReader

    pack, _ = complete_pack
    text = "\n".join(p.extract_text() for p in PdfReader(pack.paths["pdf"]).pages)
    text = re.sub(r"\s+", " ", text)
    for title in TITLES:
        assert title in text, title
    (total,) = warehouse.execute("select actual_cost from marts.rpt_review_headline "
                                 "where quarter = '2025Q3' and level = 'total'").fetchone()
    assert fmt.money(total, "USD") in text


def test_html_headline_total_equals_export_variance(complete_pack, warehouse_file, tmp_path):
    _, html = complete_pack
    out = tmp_path / "variance.csv"
    proc = mlcost("export", "variance", "--out", str(out), "--warehouse", str(warehouse_file),
                  cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with out.open(newline="") as fh:
        (row,) = [r for r in csv.DictReader(fh)
                  if r["quarter"] == "2025Q3" and r["level"] == "total"]
    exported = Decimal(row["actual_cost"])
    card = re.search(r'id="card-actual">.*?<data value="([^"]+)">([^<]+)</data>', html, re.S)
    assert Decimal(card.group(1)).quantize(Decimal("0.01")) == exported.quantize(
        Decimal("0.01"))
    assert card.group(2) == fmt.money(exported, "USD")


# ------------------------------------------------------------------------- incomplete / empty


def test_incomplete_quarter_is_preliminary(demo_copy, tmp_path):
    wh = tmp_path / "wh.duckdb"
    shutil.copy(demo_copy, wh)
    con = duckdb.connect(str(wh))
    # a headline row for 2026Q2 so the monthly chart is drawn (the real mart: R1's dbt model)
    con.execute("create table marts.rpt_review_headline as select * from "
                "(select '2026Q2' as quarter, 'total' as level, null as team, 'USD' as currency, "
                "sum(effective_cost) as actual_cost, null::decimal(38,24) as forecast_cost, "
                "null::decimal(38,24) as budget_amount, "
                "null::decimal(38,24) as variance_vs_forecast, "
                "null::decimal(38,24) as variance_vs_forecast_pct, "
                "null::decimal(38,24) as variance_vs_budget, "
                "null::decimal(38,24) as variance_vs_budget_pct, false as is_material_vs_forecast, "
                "false as is_material_vs_budget, 'no_forecast' as forecast_flag, "
                "'no_budget' as budget_flag, 1000::decimal(38,24) as materiality_amount, "
                "5::decimal(38,24) as materiality_pct, null as snapshot_id "
                "from marts.fct_costs_monthly where billing_month = date '2026-06-01')")
    con.close()
    con = duckdb.connect(str(wh), read_only=True)
    pack = render_review_pack(con, "2026Q2", tmp_path / "out")
    con.close()
    html = pack.paths["html"].read_text(encoding="utf-8")
    assert pack.preliminary and pack.months_with_data == 1
    assert pack.banner == "Preliminary: 1 of 3 months, data through Jun 2026"
    assert pack.banner in html
    # the actual line stops at the last month with data: no month after June in its table
    chart_table = html[html.index("Monthly actual vs locked forecast ("):]
    chart_table = chart_table[:chart_table.index("</table>")]
    months = re.findall(r'<th scope="row">([A-Z][a-z]{2} \d{4})</th>', chart_table)
    assert months == ["Jun 2026"]
    assert "Jul 2026" not in chart_table


def test_quarter_without_review_marts_says_what_is_missing(demo_copy, tmp_path):
    con = duckdb.connect(str(demo_copy), read_only=True)
    pack = render_review_pack(con, "2026Q3", tmp_path)
    con.close()
    html = pack.paths["html"].read_text(encoding="utf-8")
    assert not pack.preliminary and pack.months_with_data == 3
    assert {a for a, _ in pack.unavailable} == set(ANCHORS)
    assert tuple(re.findall(r'<section id="([a-z-]+)"', html)) == ANCHORS
    for table in ("rpt_review_headline", "rpt_review_bridge", "fct_variance_drivers",
                  "rpt_review_commentary_facts", "rpt_review_accuracy", "rpt_review_outlook",
                  "rpt_review_anomalies", "rpt_review_savings", "rpt_review_unit_costs",
                  "rpt_review_data_quality"):
        assert f"not available yet: marts.{table} has not been built" in html, table
    # what still exists is shown: attribution coverage and freshness in #data-quality
    assert "Attribution coverage" in html and "Actuals through" in html


def test_review_marts_without_rows_for_the_quarter(warehouse, tmp_path):
    pack = render_review_pack(warehouse, "2025Q2", tmp_path)
    html = pack.paths["html"].read_text(encoding="utf-8")
    assert "marts.rpt_review_headline has no row for 2025Q2." in html
    assert "No cost anomaly overlaps 2025Q2." in html
    assert pack.unavailable == []  # the marts exist: empty is not "not built"


def test_quarter_without_cost_data_writes_nothing(demo_copy, tmp_path):
    con = duckdb.connect(str(demo_copy), read_only=True)
    with pytest.raises(ReviewRequestError) as err:
        render_review_pack(con, "2026Q4", tmp_path / "out", formats=("html", "pdf"))
    con.close()
    assert err.value.code == MISSING_INPUT
    assert "2026Q4" in str(err.value) and "Jun 2026 to Sep 2026" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_missing_pango_is_a_clear_error_before_writing(warehouse, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pango(name, *args, **kwargs):
        if name.startswith("weasyprint"):
            raise OSError("cannot load library 'libpango-1.0-0': not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pango)
    with pytest.raises(ExitError) as err:
        render_review_pack(warehouse, "2025Q3", tmp_path / "out", formats=("html", "pdf"))
    assert err.value.code == MISSING_INPUT
    assert "libpango-1.0-0 libpangoft2-1.0-0" in str(err.value)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------- the CLI


def test_cli_writes_html_and_pdf(demo_copy, tmp_path):
    proc = mlcost("report", "--quarter", "2026Q3", "--out", str(tmp_path / "o"),
                  "--warehouse", str(demo_copy), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "o" / "2026Q3").iterdir()) == [
        "report.html", "report.pdf"]
    assert "#headline: not available yet" in proc.stdout


@pytest.mark.parametrize(("args", "code", "words"), [
    (["--quarter", "2026-3"], 64, "expected YYYYQn"),
    (["--quarter", "2026Q5"], 64, "expected YYYYQn"),
    (["--quarter", "2026Q3", "--format", "docx"], 64, "invalid choice"),
    (["--quarter", "2026Q4"], 66, "no cost data"),
    (["--quarter", "2026Q3", "--warehouse", "MISSING"], 66, "no warehouse here"),
])
def test_cli_bad_requests_create_nothing(demo_copy, tmp_path, args, code, words):
    if "--warehouse" not in args:
        args = [*args, "--warehouse", str(demo_copy)]
    args = [str(tmp_path / "missing.duckdb") if a == "MISSING" else a for a in args]
    proc = mlcost("report", *args, "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()
    assert not (tmp_path / "missing.duckdb").exists()


def test_cli_refuses_a_warehouse_being_written(demo_copy, tmp_path):
    wh = tmp_path / "wh.duckdb"
    shutil.copy(demo_copy, wh)
    # 1. an `mlcost run` holds the run lock
    from dagster_project.lib.run_lock import lock_path

    fd = os.open(lock_path(wh), os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, b'{"run_id": "r-1", "pid": 1, "host": "h", "since": "now"}')
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        proc = mlcost("report", "--quarter", "2026Q3", "--warehouse", str(wh), "--out",
                      str(tmp_path / "o"), cwd=tmp_path)
    finally:
        os.close(fd)
    assert proc.returncode == 75, proc.stderr
    assert "run r-1" in proc.stderr and not (tmp_path / "o").exists()
    # 2. another process has DuckDB's write lock
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; "
                               f"c = duckdb.connect({str(wh)!r}); print('ok', flush=True); "
                               "sys.stdin.read()"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        proc = mlcost("report", "--quarter", "2026Q3", "--warehouse", str(wh), "--out",
                      str(tmp_path / "o"), cwd=tmp_path)
    finally:
        holder.communicate("")
    assert proc.returncode == 75, proc.stderr
    assert "open for writing" in proc.stderr and not (tmp_path / "o").exists()


# ------------------------------------------------------------------------- data quality


def test_attribution_coverage_summary_per_provider():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        """create table marts.rpt_attribution_coverage as
           select date '2025-08-01' as billing_month, 'aws' as provider,
                  'USD' as billing_currency, 200.0::decimal(38,24) as total_effective_cost,
                  100.0::decimal(38,24) as tag_cost, 50.0::decimal(38,24) as tag_alias_cost,
                    30.0::decimal(38,24) as account_map_cost,
                  0.0::decimal(38,24) as resource_rule_cost,
                    10.0::decimal(38,24) as shared_split_cost,
                  10.0::decimal(38,24) as unallocated_cost""")
    table = coverage_summary(con, fc.parse_quarter("2025Q3"))
    (row,) = table.rows
    # tags 150/200 = 75.0 %, account map 15.0 %, shared 5.0 %, unallocated 5.0 %
    assert (row["Tags"], row["Account map"], row["Shared split"], row["covered"]) == (
        Decimal("75.0"), Decimal("15.0"), Decimal("5.0"), Decimal("95.0"))


# ------------------------------------------------------------------------- Evidence exports


def _sum(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()[0][0]


def test_evidence_exports_match_tables(warehouse, tmp_path):
    paths = export_evidence_sources(warehouse, tmp_path)
    assert {p.stem for p in paths} == {"costs_monthly", "forecast", "backtest_metrics",
                                       "variance", "variance_decomposition", "idle_waste"}
    costs = pq.read_table(tmp_path / "costs_monthly.parquet")
    assert costs.schema.field("effective_cost").type == pa.decimal128(38, 24)
    assert sum(costs.column("effective_cost").to_pylist()) == _sum(
        warehouse, "select sum(effective_cost) from marts.fct_costs_monthly")
    variance = pq.read_table(tmp_path / "variance.parquet")
    assert sum(variance.column("actual_cost").to_pylist()) == _sum(
        warehouse, "select sum(actual_cost) from variance.quarterly_variance")
    assert pq.read_table(tmp_path / "idle_waste.parquet").num_rows == 1


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
    con = duckdb.connect()
    results = {}
    for path in sql_files:
        cur = con.execute(path.read_text())
        results[path.stem] = ([d[0] for d in cur.description], cur.fetchall())
    cols, rows = results["costs_monthly"]
    i = cols.index("effective_cost")
    total = float(_sum(warehouse, "select sum(effective_cost) from marts.fct_costs_monthly"))
    assert sum(r[i] for r in rows) == pytest.approx(total, rel=1e-12)
    used = set()
    for page in (REPORTS / "pages").glob("*.md"):
        used |= set(re.findall(r"mlcost\.(\w+)", page.read_text()))
    assert used and used <= set(results)
