"""The demo's MLflow tracking store (`<out>/mlflow/mlflow.db`, SQLite) and the ground truth of
every run's cost (`ground_truth/training_runs.csv`); docs/mlflow.md, "The demo store".

Runs follow the demo's training resources: SageMaker training jobs (query-ranker, resource =
the job ARN), recsys EC2 training and spot instances (the bill carries the run id as the CUR 2.0
tag `user_mlflow_run_id`, on the instances and their EBS volumes), Vertex AI custom jobs (churn,
resource = the job's resource name), several runs per long-lived A100 VM (doc-embedder) and the
shared Azure ML clusters (each day's node-hours split into 1-3 runs). Planted misses: local
runs with no cloud resource, and some SageMaker jobs launched outside MLflow.

The truth of a run is the effective cost the billing writers recorded (Ctx.record_training_cost)
for its resources, times the run's share of each resource-day's usage.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np

from .fmt import stable_int
from .groups import HOURS_PER_DAY, Group

# How CUR 2.0 writes the resource tag `mlflow.runId` in its resource_tags map (user_ prefix,
# dots to underscores, camelCase to snake_case, as for every cost allocation tag).
RUN_ID_TAG = "user_mlflow_run_id"
RUN_TAGGED = ("aws.train.recsys", "aws.spot.recsys")
EBS_OF = {"aws.train.recsys": "aws.ebs.recsys-train"}
SKIP_EVERY = 9  # every 9th SageMaker job (from the 5th) is launched outside MLflow
UNITS = Decimal(10) ** -10  # the writers' integer money units


@dataclass
class Run:
    run_id: str
    experiment: str
    name: str
    start: dt.datetime
    end: dt.datetime
    tags: dict[str, str]
    params: dict[str, str]
    expected: str
    truth: Decimal = Decimal(0)
    resources: str = ""


@dataclass
class Recorded:
    """Effective cost units and usage per (group key, member, day), summed over lines."""
    cost: dict = field(default_factory=lambda: defaultdict(int))
    usage: dict = field(default_factory=lambda: defaultdict(float))


def run_id(*parts: object) -> str:
    return f"{stable_int('mlflow-run', *parts):016x}{stable_int('mlflow-run-2', *parts):016x}"


def tag_runs_in_bill(groups: list[Group]) -> None:
    """Give each recsys training/spot instance (and its EBS volume) its run's id tag, before
    the billing writers run. Only tags change; costs do not."""
    by_key = {g.key: g for g in groups}
    for key in RUN_TAGGED:
        g = by_key[key]
        ebs = by_key.get(EBS_OF.get(key, ""))
        for k in range(g.n):
            rid = run_id(key, g.ids[k])
            g.tags[k] = {**(g.tags[k] or {}), RUN_ID_TAG: rid}
            if ebs is not None:
                ebs.tags[k] = {**(ebs.tags[k] or {}), RUN_ID_TAG: rid}


def collect(records: dict) -> Recorded:
    """Sum the writers' per-row records (last delivery of a month wins) per resource-day."""
    out = Recorded()
    for (gkey, _part, _month), (member, day, units, usage) in records.items():
        for mm, dd, uu, qq in zip(member.tolist(), day.tolist(), units.tolist(), usage.tolist(),
                                  strict=True):
            out.cost[(gkey, mm, dd)] += int(uu)
            out.usage[(gkey, mm, dd)] += float(qq)
    return out


def _money(units: int) -> Decimal:
    return Decimal(units) * UNITS


def _ts(w, hours: float) -> dt.datetime:
    base = dt.datetime.combine(w.start, dt.time())
    return base + dt.timedelta(seconds=round(hours * 3600.0))


def _base_tags(g: Group, **extra: str) -> dict[str, str]:
    return {"mlcost.team": g.team, "mlcost.model": g.model, "mlcost.provider": g.provider,
            **extra}


def _day_cost(rec: Recorded, g: Group, k: int, days) -> int:
    return sum(rec.cost.get((g.key, k, int(d)), 0) for d in days)


def _job_runs(w, rec: Recorded, g: Group, itype: str, resource_key: str | None,
              expected: str, skip: bool = False, extra_groups=()) -> list[Run]:
    runs = []
    for k in range(g.n):
        if skip and k % SKIP_EVERY == 4:
            continue  # launched outside MLflow: its cost stays unmatched
        s, du = float(g.job_start[k]), float(g.job_dur[k])
        days = range(int(g.start[k]), int(g.end[k]) + 1)
        units = _day_cost(rec, g, k, days) + sum(_day_cost(rec, x, k, days) for x in extra_groups)
        rid = run_id(g.key, g.ids[k])
        res = g.ids[k].replace("//aiplatform.googleapis.com/", "")
        tags = _base_tags(g)
        if resource_key:
            tags[resource_key] = res
        runs.append(Run(rid, g.model, g.names[k], _ts(w, s), _ts(w, s + du), tags,
                        {"instance_type": itype, "instance_count": "1",
                         "dataset_rows": str(1_000_000 + stable_int("rows", rid) % 9_000_000)},
                        expected, _money(units), res if resource_key else ""))
    return runs


def _split_runs(w, g: Group, k: int, pieces: list[tuple[float, float]], nodes: int, itype: str,
                resource: str, day_cost) -> list[Run]:
    """Runs over (start hour, end hour) pieces of a shared resource; truth = each day's cost
    times the run's share of that day's run-hours."""
    hours_by_day: dict[int, float] = defaultdict(float)
    spans = []
    for s, e in pieces:
        s, e = round(s * 3600.0) / 3600.0, round(e * 3600.0) / 3600.0
        spans.append((s, e))
        for d in range(int(s // HOURS_PER_DAY), int(np.ceil(e / HOURS_PER_DAY))):
            hours_by_day[d] += max(0.0, min(e, (d + 1) * HOURS_PER_DAY) - max(s, d * 24.0))
    runs = []
    for i, (s, e) in enumerate(spans):
        truth = Decimal(0)
        with localcontext() as ctx:
            ctx.prec = 40
            for d in range(int(s // HOURS_PER_DAY), int(np.ceil(e / HOURS_PER_DAY))):
                ov = max(0.0, min(e, (d + 1) * HOURS_PER_DAY) - max(s, d * 24.0))
                if ov > 0 and hours_by_day[d] > 0:
                    truth += _money(day_cost(d)) * Decimal(round(ov * 3600)) / \
                        Decimal(round(hours_by_day[d] * 3600))
        rid = run_id(g.key, k, s)
        runs.append(Run(rid, g.model, f"{g.names[k]}-{w.date(int(s // 24)):%Y%m%d}-{i % 100:02d}",
                        _ts(w, s), _ts(w, e), _base_tags(g, **{"mlcost.resource_id": resource}),
                        {"instance_type": itype, "instance_count": str(nodes),
                         "dataset_rows": str(500_000 + stable_int("rows", rid) % 5_000_000)},
                        "time_window", truth, resource))
    return runs


def _vm_runs(w, rec: Recorded, g: Group) -> list[Run]:
    """Back-to-back runs of 1.5-5 days over each active stretch of the long-lived VMs."""
    runs = []
    pauses = g.p.get("pauses", ())
    for k in range(g.n):
        active = [d for d in range(int(g.start[k]), int(g.end[k]) + 1)
                  if not any(a <= d <= b for a, b in pauses)]
        stretches, cur = [], []
        for d in active:
            if cur and d != cur[-1] + 1:
                stretches.append(cur)
                cur = []
            cur.append(d)
        if cur:
            stretches.append(cur)
        rng = np.random.default_rng([stable_int("vm-runs", g.key, k) % 2**32])
        pieces = []
        for st in stretches:
            t, end = st[0] * HOURS_PER_DAY, (st[-1] + 1) * HOURS_PER_DAY
            while t < end:
                nxt = min(end, t + float(rng.uniform(36, 120)))
                pieces.append((t, nxt))
                t = nxt
        runs += _split_runs(w, g, k, pieces, 1, g.p.get("machine", ""), g.names[k],
                            lambda d, k=k: rec.cost.get((g.key, k, d), 0))
    return runs


def _cluster_runs(w, rec: Recorded, g: Group, resource: str, itype: str) -> list[Run]:
    """Each day's cluster hours (node-hours / nodes) split into 1-3 consecutive runs."""
    nodes = int(g.p.get("nodes", 1))
    pieces = []
    for d in sorted(d for (key, m, d) in rec.usage if key == g.key and m == 0):
        hours = min(HOURS_PER_DAY, rec.usage[(g.key, 0, d)] / nodes)
        if hours <= 0:
            continue
        rng = np.random.default_rng([stable_int("cluster-runs", g.key, d) % 2**32])
        n = 1 + int(rng.integers(0, 3))
        frac = rng.dirichlet(np.full(n, 3.0))
        if (frac * hours).min() < 0.1:  # no runs of a few minutes (or of zero seconds)
            frac = np.ones(1)
        cuts = np.cumsum(frac) * hours
        t0 = d * HOURS_PER_DAY + (HOURS_PER_DAY - hours) * float(rng.uniform(0.2, 0.8))
        prev = t0
        for c in cuts:
            pieces.append((prev, t0 + float(c)))
            prev = t0 + float(c)
    return _split_runs(w, g, 0, pieces, nodes, itype, resource,
                       lambda d: rec.cost.get((g.key, 0, d), 0))


def _local_runs(w) -> list[Run]:
    """Debug runs on a laptop: no cloud resource, so unmatched (truth: no cloud cost). One has
    its end before its start (a skewed clock), which the load reports as the run's issue."""
    runs = []
    for m in w.months:
        s = (m.day0 + 9) * HOURS_PER_DAY + 9.0
        rid = run_id("local", m.label)
        end = s - 0.5 if m.index == len(w.months) - 1 else s + 1.5
        runs.append(Run(rid, "query-ranker", f"local-debug-{m.label}", _ts(w, s), _ts(w, end),
                        {"mlcost.team": "search-ranking", "mlcost.model": "query-ranker",
                         "mlcost.resource_id": "local"},
                        {"instance_type": "laptop", "instance_count": "1",
                         "dataset_rows": "10000"}, "unmatched", Decimal(0), "local"))
    return runs


def plan_runs(w, groups: list[Group], rec: Recorded) -> list[Run]:
    by = {g.key: g for g in groups}
    runs = _job_runs(w, rec, by["aws.train.query-ranker"], "ml.p3.2xlarge", "resource_arn",
                     "resource_id", skip=True)
    runs += _job_runs(w, rec, by["aws.train.recsys"], "g5.12xlarge", None, "run_tag",
                      extra_groups=[by["aws.ebs.recsys-train"]])
    runs += _job_runs(w, rec, by["aws.spot.recsys"], "g5.4xlarge", None, "run_tag")
    churn = _job_runs(w, rec, by["gcp.vertex.churn-train"], "n1-standard-8+T4",
                      "mlcost.resource_id", "resource_id")
    if churn:  # a non-numeric count, as a hand-written param might be: reported, not fatal
        churn[0].params["instance_count"] = "one node"
    runs += churn
    runs += _vm_runs(w, rec, by["gcp.gce.doc-embedder-train"])
    runs += _cluster_runs(w, rec, by["az.aml.train"], "gpu-train", "Standard_NC6s_v3")
    sweep = by["az.aml.sweep"]
    runs += _cluster_runs(w, rec, sweep, sweep.ids[0], "Standard_NC6s_v3")
    runs += _local_runs(w)
    return runs


def write_truth(path: Path, runs: list[Run]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["run_id", "experiment_name", "run_name", "expected_match_method",
                     "resource_ids", "cost"])
        for r in runs:
            wr.writerow([r.run_id, r.experiment, r.name, r.expected, r.resources,
                         f"{r.truth.quantize(Decimal(10) ** -12):f}"])


EXPERIMENTS = ("churn-predictor", "doc-embedder", "fraud-scorer", "query-ranker",
               "recsys-two-tower")


def start_store(path: Path) -> subprocess.Popen | None:
    """Start building the store in a child process (None without the `mlflow` extra): importing
    mlflow and running its schema migrations takes seconds, done while the billing months are
    generated. The child creates the schema and one experiment per model through MLflow's
    SqlAlchemyStore, then waits for the runs on stdin (finish_store)."""
    if importlib.util.find_spec("mlflow") is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    # Location-independent (the same demo gives the same rows wherever it is written); no
    # artifacts are stored, a served store would proxy them under this scheme.
    artifacts = "mlflow-artifacts:"
    return subprocess.Popen(
        [sys.executable, "-m", __name__, str(path), artifacts, *EXPERIMENTS],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # The migrations create indexes in set order: a fixed hash seed keeps most of the file
        # stable (constraint order inside a table's schema text still varies: docs/demo-data.md).
        env={**os.environ, "PYTHONHASHSEED": "0"})


def finish_store(proc: subprocess.Popen, runs: list[Run], created: int) -> None:
    """Send the runs to the child and wait; `created` (ms) is the experiments' creation time."""
    payload = json.dumps(dict(created=created, runs=[
        dict(id=r.run_id, exp=r.experiment, name=r.name, start=_ms(r.start), end=_ms(r.end),
             tags={**r.tags, "mlflow.runName": r.name}, params=r.params) for r in runs]))
    out, err = proc.communicate(payload)
    if proc.returncode != 0:
        tail = (err or out or "").strip().splitlines()[-5:]
        raise RuntimeError("writing the demo MLflow store failed: " + " | ".join(tail))


def _ms(t: dt.datetime) -> int:
    return int(t.replace(tzinfo=dt.UTC).timestamp() * 1000)


def _build(path: Path, artifacts: str, experiments: list[str]) -> None:
    """The child process: the store in a temporary folder (tmpfs when there is one: SQLite
    syncs every commit of the migrations), runs inserted in one transaction through MLflow's
    own table definitions (SqlRun, SqlTag, SqlParam) with explicit ids and times - the bill
    carries the run ids before the store exists, and MlflowClient takes ~15 ms per call
    (thousands of runs in the 36-month demo) - then moved into place."""
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from mlflow.entities import ExperimentTag
    from mlflow.store.tracking.dbmodels.models import SqlExperiment, SqlParam, SqlRun, SqlTag
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    shm = Path("/dev/shm")
    tmp = Path(tempfile.mkdtemp(prefix="mlcost-mlflow-",
                                dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None))
    try:
        db = tmp / "mlflow.db"
        store = SqlAlchemyStore(f"sqlite:///{db}", f"{artifacts}/")
        ids = {name: int(store.create_experiment(name, f"{artifacts}/{name}",
                                                 [ExperimentTag("mlcost.model", name)]))
               for name in experiments}
        payload = json.loads(sys.stdin.read())
        runs, created = payload["runs"], payload["created"]
        run_rows, tag_rows, param_rows = [], [], []
        for r in runs:
            run_rows.append(dict(
                run_uuid=r["id"], name=r["name"], source_type="JOB", source_name="",
                entry_point_name="", user_id="mlcost-demo", status="FINISHED",
                start_time=r["start"], end_time=r["end"], deleted_time=None,
                source_version="", lifecycle_stage="active", experiment_id=ids[r["exp"]],
                artifact_uri=f"{artifacts}/{r['exp']}/{r['id']}/artifacts"))
            tag_rows += [dict(key=k, value=v, run_uuid=r["id"]) for k, v in r["tags"].items()]
            param_rows += [dict(key=k, value=v, run_uuid=r["id"])
                           for k, v in r["params"].items()]
        with store.engine.begin() as conn:
            for model, rows in ((SqlRun, run_rows), (SqlTag, tag_rows), (SqlParam, param_rows)):
                if rows:
                    conn.execute(model.__table__.insert(), rows)
            # The same rows for the same demo: no wall-clock times.
            conn.execute(SqlExperiment.__table__.update().values(
                creation_time=created, last_update_time=created))
        store.engine.dispose()
        path.unlink(missing_ok=True)
        shutil.move(str(db), str(path))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    _build(Path(sys.argv[1]), sys.argv[2], sys.argv[3:])
