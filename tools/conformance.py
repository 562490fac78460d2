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
# True of the datasets mlcost publishes (multi-provider billing data). Not declared:
# capacity reservations, virtual currency, pricing/billing currency differences.
DECLARED = [
    "ACCOUNT_NAMING_SUPPORTED", "AVAILABILITY_ZONE_SUPPORTED", "COMMITMENT_DISCOUNT_SUPPORTED",
    "MULTIPLE_PRICING_CATEGORIES_SUPPORTED", "MULTIPLE_SUB_ACCOUNT_TYPES_SUPPORTED",
    "MULTIPLE_BILLING_ACCOUNT_TYPES_SUPPORTED", "NEGOTIATED_PRICING_SUPPORTED",
    "PUBLIC_PRICE_LIST_SUPPORTED", "USAGE_MEASUREMENT_SUPPORTED", "UNIT_PRICING_SUPPORTED",
    "SUB_ACCOUNT_SUPPORTED", "BILLING_BASED_ON_PROVISIONED_RESOURCES_SUPPORTED",
    "RESOURCE_TYPE_ASSIGNMENT_SUPPORTED", "REGION_SUPPORTED", "TAGGING_SUPPORTED",
]
# Capabilities a source export does not carry, by x_SourceFamily prefix: a criterion is declared
# for a dataset only when every source family in it supports it. Account names: the legacy CUR,
# the GCP export (billing account) and the OCI cost report carry none, and for a FOCUS file the
# capability is its provider's to declare, not mlcost's (the FinOps Foundation's 1.0 sample has
# rows without one). seeds/billing_account_names.csv fills names you provide.
NOT_CARRIED = {
    "aws_cur_legacy": {"ACCOUNT_NAMING_SUPPORTED"},
    "gcp_billing": {"ACCOUNT_NAMING_SUPPORTED"},
    "oci_cost_report": {"ACCOUNT_NAMING_SUPPORTED"},
    "focus_": {"ACCOUNT_NAMING_SUPPORTED"},
}

# Rules whose 2.2.1 encoding contradicts the FOCUS 1.2 text they quote. Each is judged by the
# spec text instead: the SQL counts the rows that break the rule as written in the spec (0 =
# conforms). A composite that fails only through such a rule is judged by its other children.
SPEC_TEXT_CHECKS = {
    "CommitmentDiscountStatus-C-004-C": (
        "2.2.1 encodes the condition as 'CommitmentDiscountId IS NULL' (the opposite of the "
        "text), so it contradicts CommitmentDiscountStatus-C-003-C on every row without a "
        "commitment.",
        """select count(*) from read_parquet($path)
           where "CommitmentDiscountId" is not null and "ChargeCategory" = 'Usage'
             and "CommitmentDiscountStatus" is null""",
    ),
    "InvoiceId-C-004-C": (
        "2.2.1 gives 'MUST be null when the charge is not invoiced' no condition, so it demands "
        "a null InvoiceId on every row. Spec text: InvoiceId is null exactly when the provider "
        "has issued no invoice for the charge, i.e. it equals the source's invoice id "
        "(x_InvoiceId).",
        'select count(*) from read_parquet($path) '
        'where "InvoiceId" is distinct from "x_InvoiceId"',
    ),
    "InvoiceId-C-005-C": (
        "2.2.1 gives 'MUST NOT be null when the charge is invoiced' no condition, so it demands "
        "an InvoiceId on every row, estimates of an open month included. Judged as "
        "InvoiceId-C-004-C.",
        'select count(*) from read_parquet($path) '
        'where "InvoiceId" is distinct from "x_InvoiceId"',
    ),
}


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


_MODEL: dict[str, dict] = {}


def model() -> dict[str, dict]:
    """The validator's FOCUS 1.2 rule model: rule id -> rule."""
    if not _MODEL:
        path = next(site_packages().glob("focus_validator/rules/model-1.2*.json"))
        _MODEL.update(json.loads(path.read_text())["ModelRules"])
    return _MODEL


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
    keywords = {rule: r["ValidationCriteria"].get("Keyword", "") for rule, r in model().items()}
    failures, status = [], {}
    for line in out.splitlines():
        m = LINE.match(line.strip())
        if not m:
            continue
        status[m.group(2)] = m.group(3)
        if m.group(3) == "FAIL":
            rule = m.group(2)
            failures.append({"rule": rule, "keyword": keywords.get(rule, ""),
                             "violations": int(m.group(4)), "message": (m.group(5) or "")[:200]})
    n_total, n_pass, n_fail, n_skip = map(int, total.groups())
    failed_must = sorted(f["rule"] for f in failures if f["keyword"].startswith("MUST"))
    return {"total": n_total, "pass": n_pass, "fail": n_fail, "skipped": n_skip,
            "failed_must": failed_must, "failures": failures,
            **verdict(parquet, status, failed_must)}


def model_rule_children(rule: dict) -> tuple[str, list[str]]:
    """(AND|OR|'', ids of the model rules a composite requirement combines)."""
    req = rule["ValidationCriteria"].get("Requirement") or {}
    ids = [i["ModelRuleId"] for i in req.get("Items", []) or []
           if isinstance(i, dict) and i.get("CheckFunction") == "CheckModelRule"]
    return (req.get("CheckFunction", "") if ids else ""), ids


def verdict(parquet: Path, status: dict[str, str], failed_must: list[str]) -> dict:
    """Which failed MUST rules are failures of the dataset, and why the others are not.

    The validator reports every rule it ran, including the branches of an OR composite and
    the children of a composite. A dataset fails a requirement when:
    - a leaf MUST rule fails, unless it is one branch of an OR composite that passed (the
      spec requirement is the composite: "nullability is defined as follows: A or B"), or it
      is in SPEC_TEXT_CHECKS and the spec text's own check finds no violating row;
    - a composite fails through at least one child that is itself a failure. A composite that
      fails only through SHOULD/MAY children (or children excused above) is not a MUST failure.
    """
    rules = model()
    parents: dict[str, list[str]] = {}
    for rid, rule in rules.items():
        for child in model_rule_children(rule)[1]:
            parents.setdefault(child, []).append(rid)
    excused: dict[str, str] = {}
    spec_checks: dict[str, int] = {}
    memo: dict[str, bool] = {}

    def spec_violations(rid: str) -> int:
        if rid not in spec_checks:
            import duckdb  # the mlcost venv's; the validator runs in its own

            con = duckdb.connect()
            spec_checks[rid] = con.execute(SPEC_TEXT_CHECKS[rid][1],
                                           {"path": str(parquet)}).fetchone()[0]
            con.close()
        return spec_checks[rid]

    def fails(rid: str) -> bool:
        if rid in memo:
            return memo[rid]
        memo[rid] = False  # cycle guard
        result = status.get(rid) == "FAIL"
        keyword = rules.get(rid, {}).get("ValidationCriteria", {}).get("Keyword", "")
        op, children = model_rule_children(rules[rid]) if rid in rules else ("", [])
        if result and rid in SPEC_TEXT_CHECKS:
            n = spec_violations(rid)
            result = n > 0
            if not result:
                excused[rid] = f"validator defect; the spec text's check finds 0 rows: " \
                               f"{SPEC_TEXT_CHECKS[rid][0]}"
        elif result and children:
            bad = [c for c in children if fails(c)]
            result = bool(bad) if op == "AND" else len(bad) == len(children)
            if not result:
                excused[rid] = "fails only through children that are not MUST failures: " + \
                    ", ".join(c for c in children if status.get(c) == "FAIL")
        elif result and not keyword.startswith("MUST"):
            result = False
            excused[rid] = f"{keyword} rule (a recommendation, not a MUST requirement)"
        elif result and any(rules[p]["ValidationCriteria"]["Requirement"].get("CheckFunction")
                            == "OR" and status.get(p) == "PASS" for p in parents.get(rid, [])):
            result = False
            excused[rid] = "one branch of an OR composite that passes: " + ", ".join(
                p for p in parents.get(rid, []) if status.get(p) == "PASS")
        memo[rid] = result
        return result

    failing = sorted(r for r in failed_must if fails(r))
    for r in status:
        if status[r] == "FAIL":
            fails(r)
    return {"must_failures": failing,
            "excused": {r: excused[r] for r in sorted(excused) if status.get(r) == "FAIL"},
            "spec_text_checks": {r: {"violations": n, "why": SPEC_TEXT_CHECKS[r][0]}
                                 for r, n in sorted(spec_checks.items())}}


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


def declared_for(parquet: Path) -> list[str]:
    """DECLARED minus what a source family in the dataset does not carry (NOT_CARRIED)."""
    import duckdb

    con = duckdb.connect()
    families = [r[0] for r in con.execute(
        'select distinct "x_SourceFamily" from read_parquet($path)',
        {"path": str(parquet)}).fetchall()]
    con.close()
    missing = set().union(*[c for prefix, c in NOT_CARRIED.items()
                            for fam in families if fam.startswith(prefix)])
    return [c for c in DECLARED if c not in missing]


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
        "of the dataset are declared, so those rules run too: "
        + ", ".join(f"`{c}`" for c in DECLARED) + "; `ACCOUNT_NAMING_SUPPORTED` is left out "
        "for datasets whose source export carries no account names: legacy CUR, GCP, OCI "
        "cost reports and FOCUS files).",
        "",
        "**MUST failures** is the verdict: the failed MUST rules that are failures of the "
        "dataset. The validator's raw counts (*fail*, *failed MUST rules reported*) also "
        "count the untaken branch of an OR composite, composites that fail only through a "
        "SHOULD child, and three rules whose 2.2.1 encoding contradicts the spec text; each "
        "such rule is listed below the table with the reason, and the three are judged by "
        "the spec text's own SQL check on the same file "
        "([focus.md](focus.md#conformance-focus-validator)).",
        "",
        "| dataset | run | rules | pass | fail | skipped | failed MUST rules reported "
        "| MUST failures |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    excused: dict[str, set[str]] = {}
    for name, runs in results["datasets"].items():
        for run, r in runs.items():
            reported = ", ".join(f"`{x}`" for x in r["failed_must"]) or "none"
            verdict_ = ", ".join(f"`{x}`" for x in r["must_failures"]) or "**0**"
            lines.append(f"| {name} | {run} | {r['total']} | {r['pass']} | {r['fail']} | "
                         f"{r['skipped']} | {reported} | {verdict_} |")
            for rule, why in r["excused"].items():
                excused.setdefault(f"`{rule}`: {why}", set()).add(f"{name} ({run})")
    lines += ["", "Reported failures that are not failures of the dataset:", ""]
    lines += [f"- {why} — {len(where)} run(s)" for why, where in sorted(excused.items())]
    lines += ["", "Raw results, with every failed rule and its message: "
              "[conformance.json](conformance.json). What the failures mean and what is done "
              "about them: [focus.md](focus.md#conformance-focus-validator).", ""]
    (ROOT / "docs" / "conformance.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-months", type=int, default=18)
    parser.add_argument("--only", help="substring of the dataset names to run (docs untouched)")
    args = parser.parse_args()
    exe = ensure_validator()
    results: dict = {"validator": VALIDATOR_VERSION, "focus_version": "1.2", "datasets": {}}
    with tempfile.TemporaryDirectory(prefix="mlcost-conformance-") as tmp:
        work = Path(tmp)
        for name, landing in datasets(work, args.demo_months).items():
            if args.only and args.only not in name:
                continue
            parquet = build(landing, work, name.replace("/", "__"))
            criteria = declared_for(parquet)
            results["datasets"][name] = {
                "default": validate(exe, parquet, None),
                "declared": {"criteria": criteria, **validate(exe, parquet, criteria)},
            }
            r = results["datasets"][name]
            print(f"{name:60s} default: {r['default']['fail']} failed, "
                  f"{len(r['default']['must_failures'])} MUST failures; declared: "
                  f"{r['declared']['fail']} failed, "
                  f"{len(r['declared']['must_failures'])} MUST failures")
    if args.only:
        print(json.dumps(results, indent=1))
        return
    write_docs(results)
    print("Written docs/conformance.md and docs/conformance.json")


if __name__ == "__main__":
    main()
