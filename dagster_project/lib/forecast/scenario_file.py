"""The planning-assumptions file (``scenarios.yml``): read, validate, turn into scenarios.

The file is a list of ``assumptions``; each applies to a slice of the cost (``team``,
``model``, ``workload``, ``provider``) from a month, optionally to a month, with one value kind
given either as one number or per case (``{base:, best:, worst:}``). It maps onto the one
scenario model of ``scenarios.py``: case ``c`` of the file is ``Scenario(c, adjustments)``.
Errors name the file, the line and the field (YAML node marks via ``yaml.compose``) and are
collected, so one run reports every problem of the file. See docs/forecasting.md, *Scenarios*.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .scenarios import CASES, Adjustment, Scenario

# YAML slice key -> segment column
SLICE_KEYS = {"team": "team", "model": "ml_model", "workload": "workload",
              "provider": "provider"}
VALUE_KINDS = ("multiplier", "growth_rate", "monthly_cost", "volume")
KNOWN_KEYS = ("name", *SLICE_KEYS, "from", "to", *VALUE_KINDS, "unit_cost", "unit", "affects",
              "note")
AFFECTS = ("usage", "price")
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
MAX_ERRORS = 20
# Every ScenarioFileError message contains this; `mlcost run` maps such a failure to exit 65.
SCENARIO_FILE_INVALID = "the scenarios file is not valid"
SCENARIO_FILE_MISSING = "scenarios file not found"


class ScenarioFileError(Exception):
    """A scenarios file that cannot be used; the message lists every problem with its line."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        shown = problems[:MAX_ERRORS]
        more = f"\n  ... and {len(problems) - MAX_ERRORS} more" if len(problems) > MAX_ERRORS \
            else ""
        super().__init__(
            f"{path}: {SCENARIO_FILE_INVALID}, nothing was forecast or written "
            f"({len(problems)} problem(s); format: docs/forecasting.md, 'Scenarios'):\n"
            + "\n".join(f"  - {p}" for p in shown) + more)


@dataclass(frozen=True)
class Assumption:
    """One planning assumption of the file, with its per-case values resolved."""

    name: str
    line: int  # 1-based line of the assumption in the file
    slice: dict[str, str]  # segment column -> value
    from_month: date
    to_month: date | None
    kind: str  # one of VALUE_KINDS
    values: dict[str, float]  # case -> multiplier, rate, monthly cost or volume
    unit_cost: dict[str, float] | None = None
    unit: str | None = None
    affects: str = "usage"
    lines: dict[str, int] = field(default_factory=dict)  # field -> 1-based line

    @property
    def launches(self) -> bool:
        """Adds cost of its own (so its slice may name something new)."""
        return self.kind in ("monthly_cost", "volume")

    def adjustment(self, case: str) -> Adjustment:
        common = dict(source=self.name, from_month=self.from_month, to_month=self.to_month,
                      **{col: self.slice.get(col) for col in SLICE_KEYS.values()})
        if self.kind == "multiplier":
            return Adjustment("multiplier", factor=self.values[case], affects=self.affects,
                              **common)
        if self.kind == "growth_rate":
            return Adjustment("growth_rate", rate=self.values[case], affects=self.affects,
                              **common)
        if self.kind == "monthly_cost":
            return Adjustment("monthly_cost", monthly_cost=self.values[case], **common)
        volume, price = self.values[case], (self.unit_cost or {})[case]
        return Adjustment("monthly_cost", monthly_cost=volume * price, quantity=volume,
                          pricing_unit=self.unit, **common)


@dataclass(frozen=True)
class ScenarioFile:
    """A validated file: its assumptions and the ``base``/``best``/``worst`` scenarios."""

    path: str
    assumptions: tuple[Assumption, ...]

    def scenarios(self) -> list[Scenario]:
        return [Scenario(case, tuple(a.adjustment(case) for a in self.assumptions),
                         description=f"{case} case of the scenarios file")
                for case in CASES]


def parse_month(text: str) -> date | None:
    m = _MONTH.fullmatch(text)
    return date(int(m.group(1)), int(m.group(2)), 1) if m else None


class _Reader:
    """Walks the composed YAML nodes, collecting problems with their lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def bad(self, node, where: str, problem: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(f"line {line}, {where}: {problem}")

    def scalar(self, node) -> Any:
        import yaml
        from yaml.constructor import SafeConstructor

        if not isinstance(node, yaml.ScalarNode):
            return node
        return SafeConstructor().construct_object(node, deep=True)

    def number(self, node, where: str) -> float | None:
        import yaml

        value = self.scalar(node)
        if isinstance(value, str):  # YAML 1.1 reads 5e3 as text
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            self.bad(node, where, f"expected a number, got {_show(node)}")
            return None
        if not math.isfinite(value):
            self.bad(node, where, f"expected a finite number, got {value}")
            return None
        return float(value)

    def cases(self, node, where: str, lowest: float | None) -> dict[str, float] | None:
        """One number for every case, or a {base, best, worst} mapping in order."""
        import yaml

        if isinstance(node, yaml.MappingNode):
            got: dict[str, float] = {}
            for k, v in node.value:
                key = self.scalar(k)
                if key not in CASES:
                    self.bad(k, f"{where}.{key}", f"unknown case; use {', '.join(CASES)}")
                    continue
                num = self.number(v, f"{where}.{key}")
                if num is not None:
                    got[key] = num
            missing = [c for c in CASES if c not in got]
            if missing and len(got) + len(missing) == len(CASES) and not self._failed_in(node):
                self.bad(node, where, f"missing case(s) {', '.join(missing)}: give base, best "
                         "and worst, or one number for all three")
            if missing:
                return None
            values = got
        else:
            num = self.number(node, where)
            if num is None:
                return None
            values = dict.fromkeys(CASES, num)
        if lowest is not None:
            for case, v in values.items():
                if v < lowest:
                    self.bad(node, f"{where}.{case}" if isinstance(node, yaml.MappingNode)
                             else where, f"{v:g} is below {lowest:g}")
                    return None
        if not values["best"] <= values["base"] <= values["worst"]:
            self.bad(node, where, f"best ≤ base ≤ worst is required (values are costs or cost "
                     f"drivers: best is the cheapest case); got best {values['best']:g}, base "
                     f"{values['base']:g}, worst {values['worst']:g}")
            return None
        return values

    def _failed_in(self, node) -> bool:
        line = node.start_mark.line + 1
        return any(p.startswith(f"line {line},") for p in self.problems)


def _show(node) -> str:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return repr(node.value)


def load_scenario_file(path: Path | str) -> ScenarioFile:
    """Read and validate ``path`` (its structure; slice values are checked by
    ``check_slices`` against the data). Raises ScenarioFileError listing every problem."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(path, [f"cannot read the file: {exc}"]) from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, " if mark else ""
        raise ScenarioFileError(path, [f"{where}not valid YAML: "
                                       f"{getattr(exc, 'problem', None) or exc}"]) from None
    r = _Reader(path)
    if root is None:
        return ScenarioFile(str(path), ())  # an empty file: no assumptions
    if not isinstance(root, yaml.MappingNode):
        raise ScenarioFileError(path, [f"line {root.start_mark.line + 1}: expected a mapping "
                                       "with the key `assumptions`"])
    items = None
    for k, v in root.value:
        key = r.scalar(k)
        if key != "assumptions":
            r.bad(k, f"key `{key}`", "unknown top-level key; the file has one key, "
                  "`assumptions`")
        elif not isinstance(v, yaml.SequenceNode):
            if not (isinstance(v, yaml.ScalarNode) and v.value in ("", "~", "null")):
                r.bad(v, "`assumptions`", f"expected a list of assumptions, got {_show(v)}")
        else:
            items = v.value
    out: list[Assumption] = []
    names: dict[str, int] = {}
    for node in items or ():
        a = _assumption(r, node)
        if a is None:
            continue
        if a.name in names:
            r.bad(node, f"assumption {a.name!r}", f"name used twice (first on line "
                  f"{names[a.name]}); names must be unique")
            continue
        names[a.name] = a.line
        out.append(a)
    if r.problems:
        raise ScenarioFileError(path, r.problems)
    return ScenarioFile(str(path), tuple(out))


def _assumption(r: _Reader, node) -> Assumption | None:
    import yaml

    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        r.bad(node, "assumption", f"expected a mapping (name, slice, from, value), got "
              f"{_show(node)}")
        return None
    fields = {}
    lines = {}
    for k, v in node.value:
        key = r.scalar(k)
        if key not in KNOWN_KEYS:
            r.bad(k, f"field `{key}`", f"unknown field; known fields: {', '.join(KNOWN_KEYS)}")
            continue
        if key in fields:
            r.bad(k, f"field `{key}`", "given twice")
            continue
        fields[key] = v
        lines[key] = v.start_mark.line + 1
    before = len(r.problems)
    name_node = fields.get("name")
    name = str(r.scalar(name_node)).strip() if name_node is not None else ""
    if not name or isinstance(name_node, (yaml.MappingNode, yaml.SequenceNode)):
        r.bad(name_node or node, "field `name`", "every assumption needs a name (text)")
        name = f"(line {line})"
    label = f"assumption {name!r}"
    slice_: dict[str, str] = {}
    for key, col in SLICE_KEYS.items():
        if key in fields:
            value = r.scalar(fields[key])
            if not isinstance(value, str) or not value.strip():
                r.bad(fields[key], f"{label}, field `{key}`",
                      f"expected a name (text), got {_show(fields[key])}")
            else:
                slice_[col] = value.strip()
    months = {}
    for key in ("from", "to"):
        if key not in fields:
            continue
        value = r.scalar(fields[key])
        month = parse_month(value) if isinstance(value, str) else None
        if month is None:
            r.bad(fields[key], f"{label}, field `{key}`",
                  f"expected a month YYYY-MM (e.g. 2027-01), got {_show(fields[key])}")
        months[key] = month
    if "from" not in fields:
        r.bad(node, f"{label}, field `from`", "missing: the first month, YYYY-MM")
    if months.get("from") and months.get("to") and months["to"] < months["from"]:
        r.bad(fields["to"], f"{label}, field `to`", f"{months['to']:%Y-%m} is before `from` "
              f"{months['from']:%Y-%m}")
    kinds = [k for k in VALUE_KINDS if k in fields]
    if len(kinds) != 1:
        r.bad(node, label, ("no value: give one of " if not kinds else
                            f"{' and '.join(f'`{k}`' for k in kinds)} together: give only one of ")
              + ", ".join(f"`{k}`" for k in VALUE_KINDS) + " (`volume` with `unit_cost`)")
        return None
    kind = kinds[0]
    lowest = {"multiplier": 0.0, "growth_rate": -1.0, "monthly_cost": 0.0, "volume": 0.0}[kind]
    values = r.cases(fields[kind], f"{label}, field `{kind}`", lowest)
    unit_cost = None
    if kind == "volume":
        if "unit_cost" not in fields:
            r.bad(fields[kind], f"{label}, field `unit_cost`", "missing: `volume` needs "
                  "`unit_cost` (cost per unit; monthly cost = volume × unit_cost)")
        else:
            unit_cost = r.cases(fields["unit_cost"], f"{label}, field `unit_cost`", 0.0)
    else:
        for key in ("unit_cost", "unit"):
            if key in fields:
                r.bad(fields[key], f"{label}, field `{key}`", "only goes with `volume`")
    affects = "usage"
    if "affects" in fields:
        affects = str(r.scalar(fields["affects"]))
        if kind not in ("multiplier", "growth_rate"):
            r.bad(fields["affects"], f"{label}, field `affects`",
                  "only goes with `multiplier` or `growth_rate`")
        elif affects not in AFFECTS:
            r.bad(fields["affects"], f"{label}, field `affects`",
                  f"{affects!r}: expected one of {', '.join(AFFECTS)}")
    unit = r.scalar(fields["unit"]) if "unit" in fields else None
    if len(r.problems) > before or values is None:
        return None
    return Assumption(name, line, slice_, months["from"], months.get("to"), kind, values,
                      unit_cost, str(unit) if unit is not None else None, affects, lines)


# Reference seeds that declare slice values (schema `reference`, dbt seeds): column ->
# (table, query) with fixed text.
_SEED_VALUES = {
    "team": (("teams", "SELECT DISTINCT team FROM reference.teams"),
             ("ml_models", "SELECT DISTINCT team FROM reference.ml_models")),
    "ml_model": (("ml_models", "SELECT DISTINCT ml_model FROM reference.ml_models"),),
    "workload": (("workload_aliases", "SELECT DISTINCT workload FROM reference.workload_aliases"),
                 ("workload_rules", "SELECT DISTINCT workload FROM reference.workload_rules")),
    "provider": (("service_categories",
                  "SELECT DISTINCT provider FROM reference.service_categories"),),
}


def _known_values(con) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(values in the cost data, values in the reference seeds) per segment column, and the
    teams of each ml_model in both."""
    from dagster_project.lib.warehouse import table_exists

    known = {col: set() for col in SLICE_KEYS.values()}
    teams_of: dict[str, set[str]] = {}
    rows = con.execute(
        "SELECT DISTINCT team, ml_model, workload, provider FROM marts.fct_costs_monthly"
    ).fetchall()
    for team, model, workload, provider in rows:
        for col, v in (("team", team), ("ml_model", model), ("workload", workload),
                       ("provider", provider)):
            if v is not None:
                known[col].add(v)
        if model is not None and team is not None:
            teams_of.setdefault(model, set()).add(team)
    for col, sources in _SEED_VALUES.items():
        for table, query in sources:
            if table_exists(con, "reference", table):
                known[col].update(v for (v,) in con.execute(query).fetchall() if v)
    if table_exists(con, "reference", "ml_models"):
        for model, team in con.execute(
                "SELECT DISTINCT ml_model, team FROM reference.ml_models").fetchall():
            if model and team:
                teams_of.setdefault(model, set()).add(team)
    return known, teams_of


def check_slices(con, sfile: ScenarioFile) -> ScenarioFile:
    """Check every slice value against the cost data and the reference seeds.

    A value found in neither is an error, unless the assumption launches it (``monthly_cost``
    or ``volume``), and then only the model and workload may be new (a new team or provider
    must be declared in the seeds first). A launch without ``team`` takes the team of its
    model when the data or seeds give exactly one. Returns the file with those teams filled.
    """
    from dataclasses import replace

    known, teams_of = _known_values(con)
    yaml_key = {col: key for key, col in SLICE_KEYS.items()}
    problems: list[str] = []
    out = []
    for a in sfile.assumptions:
        where = f"assumption {a.name!r}"
        for col, value in a.slice.items():
            if value in known[col]:
                continue
            if a.launches and col in ("ml_model", "workload"):
                continue
            key = yaml_key[col]
            launch = ("" if a.launches else "; only an assumption that launches it "
                      "(`monthly_cost` or `volume`) may name a new model or workload")
            seeds = ", ".join(f"reference.{t}" for t, _ in _SEED_VALUES[col])
            problems.append(f"line {a.lines.get(key, a.line)}, {where}, field `{key}`: "
                            f"{value!r} is neither in the cost data nor in the reference "
                            f"seeds ({seeds}){launch}")
        if a.launches and "team" not in a.slice:
            teams = teams_of.get(a.slice.get("ml_model", ""), set())
            if len(teams) == 1:
                a = replace(a, slice={**a.slice, "team": next(iter(teams))})
            else:
                problems.append(f"line {a.line}, {where}, field `team`: missing; a launch "
                                f"(`{a.kind}`) adds cost to one team -- name it"
                                + (f" (model {a.slice['ml_model']!r} belongs to "
                                   f"{', '.join(sorted(teams))})" if teams else ""))
        out.append(a)
    if problems:
        raise ScenarioFileError(sfile.path, problems)
    return ScenarioFile(sfile.path, tuple(out))
