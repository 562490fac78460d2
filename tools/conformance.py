"""FOCUS conformance: run the FinOps Foundation's focus-validator on mlcost's FOCUS output.

`make conformance` runs this. For the demo data and for every real sample folder it runs
`mlcost run` into a scratch warehouse, exports `focus` to Parquet and validates it against
FOCUS 1.2 twice: with the validator's defaults, and with the applicability criteria that are
true of the data declared (which turns on many more rules). Results go to
docs/conformance.md and docs/conformance.json.

focus-validator 2.2.1 needs Python 3.12 and its own venv (`.venv-validator`); it pins
numpy<2 while its pyarrow needs numpy>=2, so numpy is upgraded after install, and it must run
from its own site-packages directory because it reads a relative data file.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-validator"
MLCOST = ROOT / ".venv" / "bin" / "mlcost"
VALIDATOR_VERSION = "2.2.1"
SAMPLES = ROOT / "tests" / "fixtures" / "real"
# True of every dataset mlcost publishes (multi-provider billing data). Not declared:
# capacity reservations, virtual currency, pricing/billing currency differences.
DECLARED = [
    "ACCOUNT_NAMING_SUPPORTED", "AVAILABILITY_ZONE_SUPPORTED", "COMMITMENT_DISCOUNT_SUPPORTED",
    "MULTIPLE_PRICING_CATEGORIES_SUPPORTED", "MULTIPLE_SUB_ACCOUNT_TYPES_SUPPORTED",
    "MULTIPLE_BILLING_ACCOUNT_TYPES_SUPPORTED", "NEGOTIATED_PRICING_SUPPORTED",
    "PUBLIC_PRICE_LIST_SUPPORTED", "USAGE_MEASUREMENT_SUPPORTED", "UNIT_PRICING_SUPPORTED",
    "SUB_ACCOUNT_SUPPORTED", "BILLING_BASED_ON_PROVISIONED_RESOURCES_SUPPORTED",
    "RESOURCE_TYPE_ASSIGNMENT_SUPPORTED", "REGION_SUPPORTED", "TAGGING_SUPPORTED",
]


def python312() -> str:
    for cand in [shutil.which("python3.12"),
                 *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python")))]:
        if cand and Path(cand).exists():
            return cand
    sys.exit("conformance: focus-validator needs Python 3.12 (python3.12 or pyenv 3.12.x).")


def ensure_validator() -> Path:
    exe = VENV / "bin" / "focus-validator"
    if not exe.exists():
        subprocess.run([python312(), "-m", "venv", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, f"focus-validator=={VALIDATOR_VERSION}"], check=True)
        subprocess.run([*pip, "numpy>=2"], check=True)
    return exe


def site_packages() -> Path:
    return Path(glob.glob(str(VENV / "lib" / "python3.12" / "site-packages"))[0])


def rule_keywords() -> dict[str, str]:
    model = next(site_packages().glob("focus_validator/rules/model-1.2*.json"))
    found: dict[str, str] = {}

    def walk(obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if isinstance(v, dict) and "ValidationCriteria" in v:
                    found[k] = v["ValidationCriteria"].get("Keyword", "")
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    walk(json.loads(model.read_text()))
    return found


LINE = re.compile(r"^(✅|❌|⏭️)\s+(\S+):\s+(PASS|FAIL|SKIPPED)\s+\(violations=(\d+)(?:, msg=(.*))?")


def validate(exe: Path, parquet: Path, criteria: list[str] | None) -> dict:
    cmd = [str(exe), "--data-file", str(parquet), "--validate-version", "1.2",
           "--block-download"]
    if criteria:
        cmd += ["--applicability-criteria", ",".join(criteria)]
    proc = subprocess.run(cmd, cwd=site_packages(), capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    total = re.search(r"Total: (\d+) \| Pass: (\d+) \| Fail: (\d+) \| Skipped: (\d+)", out)
    if not total:
        raise RuntimeError(f"focus-validator did not report totals for {parquet}:\n{out[-2000:]}")
    keywords = rule_keywords()
    failures = []
    for line in out.splitlines():
        m = LINE.match(line.strip())
        if m and m.group(3) == "FAIL":
            rule = m.group(2)
            failures.append({"rule": rule, "keyword": keywords.get(rule, ""),
                             "violations": int(m.group(4)), "message": (m.group(5) or "")[:200]})
    n_total, n_pass, n_fail, n_skip = map(int, total.groups())
    return {"total": n_total, "pass": n_pass, "fail": n_fail, "skipped": n_skip,
            "failed_must": sorted(f["rule"] for f in failures if f["keyword"].startswith("MUST")),
            "failures": failures}


def build(landing: Path, work: Path, name: str) -> Path:
    wh = work / f"{name}.duckdb"
    # The landing folders were just generated or copied, completely: no settle time needed.
    env = {**os.environ, "MLCOST_REPORTS": str(work / "reports"),
           "MLCOST_EXPORTS": str(work / "exports" / name), "MLCOST_SETTLE_SECONDS": "0"}
    run = subprocess.run([str(MLCOST), "run", "--landing", str(landing), "--warehouse", str(wh)],
                         env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"mlcost run failed for {name}:\n{run.stderr[-3000:]}")
    out = work / f"{name}.parquet"
    subprocess.run([str(MLCOST), "export", "focus", "--out", str(out), "--warehouse", str(wh)],
                   env=env, check=True, capture_output=True)
    return out


def datasets(work: Path, demo_months: int) -> dict[str, Path]:
    demo = work / "demo"
    subprocess.run([str(MLCOST), "generate", "--out", str(demo), "--months", str(demo_months)],
                   check=True, capture_output=True)
    found = {"demo": demo / "landing"}
    for folder in sorted(p for p in SAMPLES.glob("*/*") if p.is_dir()):
        found[f"{folder.parent.name}/{folder.name}"] = folder
    return found


def write_docs(results: dict) -> None:
    (ROOT / "docs" / "conformance.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# FOCUS conformance",
        "",
        f"Measured with the FinOps Foundation's focus-validator {VALIDATOR_VERSION} against "
        "FOCUS 1.2, by `make conformance` (tools/conformance.py). Each dataset is the output of "
        "`mlcost run` on that landing folder, exported with `mlcost export focus`.",
        "",
        "Two runs per dataset: **default** (the validator's defaults: rules that depend on a "
        "provider capability are skipped) and **declared** (the applicability criteria true "
        "of mlcost's output are declared, so those rules run too: "
        + ", ".join(f"`{c}`" for c in DECLARED) + ").",
        "",
        "| dataset | run | rules | pass | fail | skipped | failed MUST rules |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for name, runs in results["datasets"].items():
        for run, r in runs.items():
            must = ", ".join(f"`{x}`" for x in r["failed_must"]) or "none"
            lines.append(f"| {name} | {run} | {r['total']} | {r['pass']} | {r['fail']} | "
                         f"{r['skipped']} | {must} |")
    lines += ["", "Raw results, with every failed rule and its message: "
              "[conformance.json](conformance.json). What the failures mean and what is done "
              "about them: [focus.md](focus.md#conformance-focus-validator).", ""]
    (ROOT / "docs" / "conformance.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-months", type=int, default=18)
    args = parser.parse_args()
    exe = ensure_validator()
    results: dict = {"validator": VALIDATOR_VERSION, "focus_version": "1.2", "datasets": {}}
    with tempfile.TemporaryDirectory(prefix="mlcost-conformance-") as tmp:
        work = Path(tmp)
        for name, landing in datasets(work, args.demo_months).items():
            parquet = build(landing, work, name.replace("/", "__"))
            results["datasets"][name] = {
                "default": validate(exe, parquet, None),
                "declared": validate(exe, parquet, DECLARED),
            }
            r = results["datasets"][name]
            print(f"{name:60s} default: {r['default']['fail']} failed "
                  f"({len(r['default']['failed_must'])} MUST); declared: "
                  f"{r['declared']['fail']} failed ({len(r['declared']['failed_must'])} MUST)")
    write_docs(results)
    print("Written docs/conformance.md and docs/conformance.json")


if __name__ == "__main__":
    main()
