"""Every SQL block of the Evidence pages (reports/pages/**.md) runs on real exports.

Evidence cannot be built offline (its duckdb-wasm downloads an extension), so this test does
what Evidence does with a page, with DuckDB: the sources (reports/sources/mlcost/*.sql, each a
query over a Parquet export) become views `mlcost.<name>`, resolved with the project's
`reports/` folder as the base of their relative paths; each ```sql name``` block is compiled as
Evidence compiles it -- `${other}` inlines the other block as a subquery `(select ...)`,
`${inputs.<name>.value}` becomes the value the input component starts with (a Dropdown's
`defaultValue`, else the first row of its data) -- and must return at least one row with every
column the page's components read from it (`<DataTable data={q}>` with its `<Column id=...>`,
the `x`, `y`, `y2`, `value`, `series`, `size`, `column`, `comparison`, `sparkline` attributes,
a Dropdown's `value`/`label`, and inline values `{q[0].column}` in the text).

Data: the pinned demo (`mlcost demo --end-month 2026-09`: forecasts, the locked quarters,
variance), exported with `export_evidence_sources`. The session's small demo (4 months) is too
short for a locked plan, so the variance pages would be empty there. Anything the compiler does
not know (`${params.x}` of a templated page, an unknown query or input) is a problem reported
for the page, never silently skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

REPORTS = Path(__file__).resolve().parent.parent / "reports"
PAGES = sorted((REPORTS / "pages").rglob("*.md"))

_BLOCK = re.compile(r"^```sql[ \t]+(\w+)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
_TAG = re.compile(r"<([A-Z]\w*)((?:\s+[^<>]*?)?)\s*(/?)>", re.S)
_ATTR = re.compile(r"""(\w+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|\{([^}]*)\}|([^\s"'{}/>]+)))?""")
_REF = re.compile(r"\$\{([^}]*)\}")
# Component attributes that name a column of the component's data.
COLUMN_ATTRS = ("x", "y", "y2", "value", "series", "size", "column", "comparison", "sparkline")
# An inline value in the prose: {query[0].column}
_INLINE = re.compile(r"(?<!\$)\{(\w+)\[\d+\]\.(\w+)\}")
INPUT_COLUMN_ATTRS = ("value", "label")


@dataclass
class Page:
    name: str
    blocks: dict[str, str]
    # query -> columns the page's components read from it
    uses: dict[str, set[str]] = field(default_factory=dict)
    # input name -> (query, value column, label column, default value or None)
    inputs: dict[str, tuple[str, str, str, str | None]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _attrs(text: str) -> dict[str, str]:
    out = {}
    for m in _ATTR.finditer(text):
        name, *values = m.groups()
        out[name] = next((v for v in values if v is not None), "")
    return out


def _columns(value: str) -> list[str]:
    """`y=cost` or `y={['a', 'b']}` -> the column names."""
    quoted = re.findall(r"""['"]([^'"]+)['"]""", value)
    return quoted if value.lstrip().startswith("[") else [value.strip()]


def parse_page(name: str, text: str) -> Page:
    """The page's SQL blocks, the columns its components use per query, its inputs."""
    page = Page(name, {})
    for m in _BLOCK.finditer(text):
        if m.group(1) in page.blocks:
            page.problems.append(f"{name}: two sql blocks are named {m.group(1)}")
        page.blocks[m.group(1)] = m.group(2)
    prose = _BLOCK.sub("", text)
    tables = []  # (start, end) of each <DataTable ...> ... </DataTable>
    for m in _TAG.finditer(prose):
        tag, attrs = m.group(1), _attrs(m.group(2))
        data = attrs.get("data", "").strip()
        if tag == "Column":
            if not any(start < m.start() < end for start, end in tables):
                page.problems.append(f"{name}: <Column> outside a <DataTable>")
            continue
        if not data:
            continue
        if data not in page.blocks:
            page.problems.append(f"{name}: <{tag} data={{{data}}}> names no sql block")
            continue
        used = page.uses.setdefault(data, set())
        if tag == "DataTable" and not m.group(3):  # its <Column>s follow until </DataTable>
            end = prose.find("</DataTable>", m.end())
            if end < 0:
                page.problems.append(f"{name}: <DataTable data={{{data}}}> is never closed")
                end = len(prose)
            tables.append((m.end(), end))
            used |= {_attrs(c.group(2)).get("id", "") for c in _TAG.finditer(prose[m.end():end])
                     if c.group(1) == "Column"} - {""}
            continue
        if tag in ("Dropdown", "ButtonGroup"):
            if "name" not in attrs or "value" not in attrs:
                page.problems.append(f"{name}: <{tag} data={{{data}}}> needs name= and value=")
                continue
            label = attrs.get("label", attrs["value"])
            page.inputs[attrs["name"]] = (data, attrs["value"], label, attrs.get("defaultValue"))
            used |= {attrs[a] for a in INPUT_COLUMN_ATTRS if a in attrs}
            continue
        for a in COLUMN_ATTRS:
            if a in attrs:
                used |= set(_columns(attrs[a]))
    for m in _INLINE.finditer(prose):
        if m.group(1) not in page.blocks:
            page.problems.append(f"{name}: {{{m.group(1)}[..]}} names no sql block")
        else:
            page.uses.setdefault(m.group(1), set()).add(m.group(2))
    return page


class Compiler:
    """Evidence's compilation of one page's blocks, against a DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, page: Page):
        self.con, self.page = con, page
        self.inputs: dict[str, dict[str, str]] = {}

    def sql(self, name: str, stack: tuple[str, ...] = ()) -> str:
        if name in stack:
            raise ValueError(f"circular reference {' -> '.join((*stack, name))}")
        if name not in self.page.blocks:
            raise ValueError(f"${{{name}}} names no sql block of the page")
        return _REF.sub(lambda m: self._ref(m.group(1).strip(), (*stack, name)),
                        self.page.blocks[name])

    def _ref(self, ref: str, stack: tuple[str, ...]) -> str:
        parts = ref.split(".")
        if parts[0] == "inputs" and len(parts) == 3 and parts[2] in ("value", "label"):
            value = self._input(parts[1], stack)[parts[2]]
            return value.replace("'", "''")  # inside a quoted literal on the page
        if len(parts) == 1 and re.fullmatch(r"\w+", ref):
            return "(\n" + self.sql(ref, stack) + "\n)"
        raise ValueError(f"${{{ref}}}: not a query or an input this test can compile "
                         "(templated pages' params need a value source here)")

    def _input(self, name: str, stack: tuple[str, ...]) -> dict[str, str]:
        if name not in self.inputs:
            if name not in self.page.inputs:
                raise ValueError(f"${{inputs.{name}}}: the page has no input named {name}")
            query, value_col, label_col, default = self.page.inputs[name]
            rows = self.con.execute(self.sql(query, stack)).fetchall()
            cols = [d[0] for d in self.con.description]
            if value_col not in cols or label_col not in cols:
                raise ValueError(f"input {name}: {query} has no column {value_col}/{label_col}")
            options = [(str(r[cols.index(value_col)]), str(r[cols.index(label_col)]))
                       for r in rows]
            if not options:
                raise ValueError(f"input {name}: its query {query} returns no option")
            if default is not None:
                match = [o for o in options if o[0] == default]
                if not match:
                    raise ValueError(f"input {name}: defaultValue {default!r} is not one of "
                                     f"its options {sorted(o[0] for o in options)}")
                options = match
            self.inputs[name] = {"value": options[0][0], "label": options[0][1]}
        return self.inputs[name]


def check_page(con: duckdb.DuckDBPyConnection, page: Page) -> list[str]:
    """Problems of the page: every block must compile, run, return a row and have the
    columns its components use."""
    problems = list(page.problems)
    compiler = Compiler(con, page)
    for name in page.blocks:
        try:
            cur = con.execute(compiler.sql(name))
            cols = [d[0] for d in cur.description]
            rows = cur.fetchall()
        except (ValueError, duckdb.Error) as exc:
            problems.append(f"{page.name}: block {name}: {str(exc).splitlines()[0]}")
            continue
        if not rows:
            problems.append(f"{page.name}: block {name} returns no row on the demo")
        missing = sorted(page.uses.get(name, set()) - set(cols))
        if missing:
            problems.append(f"{page.name}: block {name} lacks column(s) {missing} that the "
                            f"page's components use (it has {cols})")
    return problems


def source_views(con: duckdb.DuckDBPyConnection, project: Path) -> set[str]:
    """The `mlcost` source as Evidence's `npm run sources` builds it: one relation per
    sources/mlcost/*.sql, relative paths resolved from the project folder."""
    con.execute("SET file_search_path = ?", [str(project)])
    con.execute("CREATE SCHEMA IF NOT EXISTS mlcost")
    names = set()
    for path in sorted((REPORTS / "sources" / "mlcost").glob("*.sql")):
        # the view's name is the file's stem (a fixed, checked identifier, not data)
        assert re.fullmatch(r"\w+", path.stem), path
        con.execute(f"CREATE VIEW mlcost.{path.stem} AS {path.read_text()}")
        names.add(path.stem)
    return names


@pytest.fixture(scope="module")
def evidence_con(pinned_demo, tmp_path_factory):
    """The Evidence sources exported from the pinned demo (forecasts, locked quarters,
    variance, waste), seen through the project's sources/mlcost/*.sql."""
    from dagster_project.lib.report import export_evidence_sources

    base = tmp_path_factory.mktemp("evidence-demo")
    with duckdb.connect(str(pinned_demo / "wh.duckdb"), read_only=True) as con:
        export_evidence_sources(con, base / "data" / "exports")
    (base / "reports").mkdir()
    con = duckdb.connect()
    source_views(con, base / "reports")
    yield con
    con.close()


def test_there_are_pages_and_blocks():
    assert {p.stem for p in PAGES} >= {"index", "forecast", "variance", "waste"}
    for path in PAGES:
        page = parse_page(path.name, path.read_text(encoding="utf-8"))
        assert page.blocks, f"{path.name} has no sql block"
        assert page.uses, f"{path.name}: no component reads a query"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(REPORTS / "pages")))
def test_every_block_runs_and_has_the_columns_its_components_use(evidence_con, path):
    page = parse_page(path.name, path.read_text(encoding="utf-8"))
    assert check_page(evidence_con, page) == []


# ---------------------------------------------------------------------------------------------
# the extractor itself, on pages written to fail


def _toy_con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA mlcost")
    con.execute("CREATE TABLE mlcost.costs AS SELECT * FROM (VALUES "
                "('2026Q3', 'a', 10.0), ('2026Q3', 'b', 5.0), ('2026Q2', 'a', 1.0)) "
                "t(quarter, team, cost)")
    return con


GOOD = """---
title: toy
---
```sql quarters
select distinct quarter from mlcost.costs order by quarter desc
```

<Dropdown data={quarters} name=quarter value=quarter />

```sql by_team
select team, sum(cost) as cost from mlcost.costs
where quarter = '${inputs.quarter.value}' group by all
```

```sql total
select sum(cost) as cost from ${by_team}
```

<BarChart data={by_team} x=team y=cost />
<BigValue data={total} value=cost />
The total is {total[0].cost}.
<DataTable data={by_team}>
    <Column id=team />
    <Column id=cost fmt=usd0 title="Cost" />
</DataTable>
"""


def test_the_compiler_inlines_queries_and_inputs_as_evidence_does():
    con = _toy_con()
    page = parse_page("toy.md", GOOD)
    assert set(page.blocks) == {"quarters", "by_team", "total"}
    assert page.uses == {"quarters": {"quarter"}, "by_team": {"team", "cost"},
                         "total": {"cost"}}
    sql = Compiler(con, page).sql("total")
    assert "from (\nselect team" in sql and "where quarter = '2026Q3'" in sql
    assert con.execute(sql).fetchall() == [(15.0,)]
    assert check_page(con, page) == []


@pytest.mark.parametrize("broken, expected", [
    # a column a component uses that the query does not return
    (GOOD.replace("<Column id=cost fmt", "<Column id=amount fmt"),
     "block by_team lacks column(s) ['amount']"),
    (GOOD.replace("x=team y=cost", "x=team y=costs"), "lacks column(s) ['costs']"),
    # SQL the database rejects
    (GOOD.replace("sum(cost) as cost from ${by_team}", "sum(cst) as cost from ${by_team}"),
     "block total: Binder Error"),
    # an empty result
    (GOOD.replace("group by all", "and team = 'nobody' group by all"),
     "block by_team returns no row"),
    # an unknown query, an unknown input, a default that is not an option, a cycle
    (GOOD.replace("from ${by_team}", "from ${by_teams}"), "${by_teams} names no sql block"),
    (GOOD.replace("inputs.quarter.value", "inputs.quarterr.value"), "no input named quarterr"),
    (GOOD.replace("value=quarter />", 'value=quarter defaultValue="2020Q1" />'),
     "defaultValue '2020Q1' is not one of its options"),
    (GOOD.replace("from mlcost.costs\nwhere", "from ${total}\nwhere"), "circular reference"),
    # a templated page's parameter
    (GOOD.replace("${inputs.quarter.value}", "${params.quarter}"), "${params.quarter}: not a"),
    # a component reading a query the page does not have
    (GOOD.replace("<BigValue data={total}", "<BigValue data={totals}"),
     "<BigValue data={totals}> names no sql block"),
    (GOOD + "<Column id=team />\n", "<Column> outside a <DataTable>"),
    (GOOD.replace("{total[0].cost}", "{total[0].costs}"), "block total lacks column(s) ['costs']"),
])
def test_a_broken_page_is_reported(broken, expected):
    problems = check_page(_toy_con(), parse_page("toy.md", broken))
    assert any(expected in p for p in problems), problems


def test_sources_resolve_relative_to_the_project(tmp_path):
    (tmp_path / "data" / "exports").mkdir(parents=True)
    (tmp_path / "reports").mkdir()
    from dagster_project.lib.report import export_evidence_sources

    export_evidence_sources(duckdb.connect(), tmp_path / "data" / "exports")
    con = duckdb.connect()
    names = source_views(con, tmp_path / "reports")
    used = set()
    for path in PAGES:
        used |= set(re.findall(r"mlcost\.(\w+)", path.read_text(encoding="utf-8")))
    assert used and used <= names
    assert con.execute("select count(*) from mlcost.variance").fetchone() == (0,)
