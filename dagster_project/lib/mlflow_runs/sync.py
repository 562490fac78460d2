"""`mlcost sync-mlflow`: write each matched run's cost back to its MLflow run (metric
`mlcost.cost`, tags `mlcost.currency`, `mlcost.cost_match_method`, `mlcost.cost_exact`), so
data scientists see cost beside accuracy. Idempotent: a run whose values already match is not
written again (no new metric history). docs/mlflow.md, "Writing costs back"."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal

from dagster_project.exit_codes import MISSING_INPUT, OK, ExitError

from .reader import StoreUnavailable, client_for, strip_credentials

METRIC = "mlcost.cost"
TAG_CURRENCY = "mlcost.currency"
TAG_METHOD = "mlcost.cost_match_method"
TAG_EXACT = "mlcost.cost_exact"  # the exact decimal (an MLflow metric is a double)


@dataclass
class SyncResult:
    written: int = 0
    unchanged: int = 0
    not_in_store: list[str] = field(default_factory=list)
    unmatched: int = 0


def matched_runs(con) -> tuple[list[tuple[str, Decimal, str, str]], int]:
    """(run_id, cost, currency, method) of every matched run, and the unmatched count."""
    from dagster_project.lib.warehouse import table_exists

    if not table_exists(con, "marts", "fct_training_run_costs"):
        raise ExitError("marts.fct_training_run_costs does not exist yet: run `mlcost run` "
                        "with an MLflow tracking URI configured first.", MISSING_INPUT)
    rows = con.execute(
        "select run_id, cost, billing_currency, match_method from marts.fct_training_run_costs "
        "where match_method <> 'unmatched' and cost is not null order by run_id").fetchall()
    ((unmatched,),) = con.execute("select count(*) from marts.fct_training_run_costs "
                                  "where match_method = 'unmatched'").fetchall()
    return rows, unmatched


def _exact(cost: Decimal) -> str:
    text = f"{cost.normalize():f}"
    return "0" if text in ("-0", "0E-24") else text


def sync_costs(client, rows, dry_run: bool = False) -> SyncResult:
    from mlflow.entities import Metric, RunTag, ViewType

    res = SyncResult()
    wanted = {r[0]: r for r in rows}
    current: dict[str, tuple] = {}
    exps = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    for i in range(0, len(exps), 50):
        token = None
        while True:
            page = client.search_runs(exps[i:i + 50], run_view_type=ViewType.ALL,
                                      max_results=1000, page_token=token)
            for run in page:
                if run.info.run_id in wanted:
                    tags = run.data.tags
                    current[run.info.run_id] = (tags.get(TAG_EXACT), tags.get(TAG_CURRENCY),
                                                tags.get(TAG_METHOD))
            token = page.token
            if not token:
                break
    now = int(time.time() * 1000)
    for run_id, cost, currency, method in rows:
        if run_id not in current:
            res.not_in_store.append(run_id)
            continue
        exact = _exact(cost)
        if current[run_id] == (exact, currency, method):
            res.unchanged += 1
            continue
        res.written += 1
        if not dry_run:
            client.log_batch(run_id, metrics=[Metric(METRIC, float(cost), now, 0)],
                             tags=[RunTag(TAG_EXACT, exact), RunTag(TAG_CURRENCY, currency or ""),
                                   RunTag(TAG_METHOD, method)])
    return res


def cmd_sync_mlflow(args) -> int:
    from dagster_project import settings
    from dagster_project.lib.pipeline import apply_paths
    from dagster_project.lib.warehouse import connection

    apply_paths(None, args.warehouse)
    uri = settings.mlflow_uri()
    if not uri:
        raise ExitError("sync-mlflow: no MLflow tracking URI configured. Set MLCOST_MLFLOW_URI "
                        "or `mlflow_uri` in mlcost.toml (docs/mlflow.md).", MISSING_INPUT)
    wh = settings.warehouse_path()
    if not wh.exists():
        raise ExitError(f"{wh}: no warehouse here yet. Run `mlcost run` first, or pass "
                        "--warehouse.", MISSING_INPUT)
    with connection(wh, read_only=True) as con:
        rows, unmatched = matched_runs(con)
    try:
        client = client_for(uri)
        res = sync_costs(client, rows, dry_run=args.dry_run)
    except StoreUnavailable as exc:
        raise ExitError(f"sync-mlflow: {exc.reason}", MISSING_INPUT) from None
    except ExitError:
        raise
    except Exception as exc:  # noqa: BLE001 - a store failure is one clear message
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise ExitError(f"sync-mlflow: {strip_credentials(uri)}: writing to the MLflow store "
                        f"failed: {type(exc).__name__}: {first}", MISSING_INPUT) from None
    res.unmatched = unmatched
    verb = "would write" if args.dry_run else "wrote"
    print(f"sync-mlflow {strip_credentials(uri)}: {verb} the cost of {res.written:,} run(s), "
          f"{res.unchanged:,} already up to date, {res.unmatched:,} unmatched run(s) skipped"
          + (f", {len(res.not_in_store):,} run(s) not in this store (first: "
             f"{res.not_in_store[0]})" if res.not_in_store else ""))
    return OK


def add_parser(sub) -> None:
    s = sub.add_parser("sync-mlflow", help="write each matched run's cost back to MLflow "
                       "(metric mlcost.cost, tags mlcost.currency, mlcost.cost_match_method)")
    s.add_argument("--warehouse", metavar="FILE", help="DuckDB warehouse file (default: "
                   "$MLCOST_WAREHOUSE, else `warehouse` in mlcost.toml, else "
                   "data/warehouse.duckdb)")
    s.add_argument("--dry-run", action="store_true",
                   help="count what would be written, write nothing (default: off)")
    s.set_defaults(func=cmd_sync_mlflow)
