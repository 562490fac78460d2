"""The module map of dagster_project/ (issue #13, docs/architecture.md): no Python file over
500 lines, and every module used by the runtime or by a test that proves a documented claim.

"Used by the runtime" is computed, not listed: a fresh interpreter imports the two entry
points (`dagster_project.definitions`, which Dagster loads, and `dagster_project.cli`, the
`mlcost` command) and reports what landed in `sys.modules`, which covers any way the
definitions find their modules (explicit imports or loading a folder). Then the imports
written inside functions (the CLI's commands, the assets' lazy imports of the heavy stages)
are followed statically from there, to a fixed point. A module outside that closure must be
named in RUNTIME_EXEMPT with the reason it exists, and a test must import it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dagster_project"
TESTS = ROOT / "tests"
MAX_LINES = 500
ENTRY_POINTS = ("dagster_project.definitions", "dagster_project.cli")

# Modules the runtime does not import, each kept because a test exercises a documented claim.
RUNTIME_EXEMPT = {
    "dagster_project.lib.scoring": "scores attribution and waste detection against the "
    "generator's truth: the accuracy figures of docs/attribution.md and docs/waste.md, "
    "checked by tests/test_attribution.py and tests/test_waste.py",
    "dagster_project.lib.event_log": "Dagster loads it by name from the dagster.yaml mlcost "
    "writes (lib/instance.py), not by import; tests/test_event_log.py",
}

# Files over MAX_LINES that another change of issue #13 is splitting right now. An entry
# must go once its file is under the limit (test_over_limit_list_is_current says so).
OVER_LIMIT_BEING_SPLIT: dict[str, str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Import statements anywhere in the tree (function bodies included), except under
    `if TYPE_CHECKING:`, which never runs."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _with_parents(name: str) -> set[str]:
    """A module and the packages above it (importing a.b.c runs a/__init__ and a/b/__init__)."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def imported_by(path: Path, name: str) -> set[str]:
    """dagster_project modules the file at `path` (module `name`) imports, statically."""
    known = _modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from pkg import mod` imports the submodule pkg.mod when there is one.
            targets = [target] + [f"{target}.{a.name}" for a in node.names]
        for t in targets:
            if t in known:
                found |= _with_parents(t) & known.keys()
    return found


@cache
def runtime_modules() -> frozenset[str]:
    probe = ("import json, sys\n"
             + "".join(f"import {m}\n" for m in ENTRY_POINTS)
             + "print(json.dumps(sorted(m for m in sys.modules "
               "if m == 'dagster_project' or m.startswith('dagster_project.'))))\n")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"importing {ENTRY_POINTS} failed:\n{proc.stderr[-3000:]}"
    return _closure(set(json.loads(proc.stdout.strip().splitlines()[-1])))


def _closure(start: set[str]) -> frozenset[str]:
    """`start` and every package module they import statically, to a fixed point."""
    known = _modules()
    reached = start & known.keys()
    todo = list(reached)
    while todo:
        name = todo.pop()
        for dep in imported_by(known[name], name) - reached:
            reached.add(dep)
            todo.append(dep)
    return frozenset(reached)


@cache
def _modules_tests_import() -> frozenset[str]:
    """Package modules a test imports, directly or through the modules it imports."""
    found: set[str] = set()
    for path in TESTS.rglob("*.py"):
        found |= imported_by(path, _module_name(path))
    return _closure(found)


def test_no_python_file_over_the_limit():
    over = {str(p.relative_to(ROOT)): n for p in _modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    unexpected = sorted(f"{p} ({n} lines)" for p, n in over.items()
                        if p not in OVER_LIMIT_BEING_SPLIT)
    assert not unexpected, f"over {MAX_LINES} lines, split by job: {unexpected}"


def test_over_limit_list_is_current():
    stale = sorted(p for p in OVER_LIMIT_BEING_SPLIT
                   if not (ROOT / p).exists()
                   or len((ROOT / p).read_text(encoding="utf-8").splitlines()) <= MAX_LINES)
    assert not stale, f"now within {MAX_LINES} lines (or gone): remove from the list: {stale}"


def test_every_module_is_used_by_the_runtime_or_exempt_with_a_reason():
    unused = sorted(set(_modules()) - runtime_modules() - set(RUNTIME_EXEMPT))
    assert not unused, (
        "not imported by dagster_project.definitions or dagster_project.cli (directly or "
        f"lazily): {unused}. Wire them up, delete them, or exempt them with a reason.")


def test_runtime_exemptions_are_needed_and_tested():
    runtime, tested = runtime_modules(), _modules_tests_import()
    for name, reason in RUNTIME_EXEMPT.items():
        assert name in _modules(), f"{name} no longer exists: remove the exemption"
        assert name not in runtime, f"{name} is imported by the runtime now: remove it"
        assert reason.strip(), f"{name}: say why it is exempt"
        assert name in tested, f"{name} is exempt but no test imports it"


def test_the_import_walk_sees_lazy_and_relative_imports(tmp_path):
    """The static part of the walk: an import inside a function counts, a TYPE_CHECKING one
    does not, and relative and `from package import module` forms resolve."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "from .generate import core\n"
        "if TYPE_CHECKING:\n"
        "    from dagster_project.lib import variance\n"
        "def later():\n"
        "    import dagster_project.lib.report.render\n",
        encoding="utf-8")
    found = imported_by(probe, "dagster_project.lib.probe")
    assert {"dagster_project.lib.generate", "dagster_project.lib.generate.core",
            "dagster_project.lib.report", "dagster_project.lib.report.render",
            "dagster_project.lib", "dagster_project"} <= found
    assert "dagster_project.lib.variance" not in found
