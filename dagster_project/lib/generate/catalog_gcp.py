"""GCP part of the resource catalog: Compute Engine training VMs and fleets, Vertex AI
jobs and endpoints, Workbench instances, Cloud Storage, BigQuery and Dataflow. SKUs, prices
and the bucket and dataset tables are in ``data/gcp_prices.json``."""

from __future__ import annotations

import numpy as np

from . import company as C
from .fmt import gcp_sku, stable_int
from .groups import (
    Group,
    daily_jobs,
    job_range,
    new_group,
    period,
    scaled_count,
    weekly_jobs,
)
from .reference import load_json
from .window import Window

_PRICES = "gcp_prices.json"
# The project of each data-file row, by the short names the file uses.
_PROJECTS = {"search": C.GCP_SEARCH, "recsys": C.GCP_RECSYS, "shared": C.GCP_SHARED}


def _gl(desc: str, per: float = 1.0, credit: str | None = None, src: str = "qty") -> dict:
    """The billing line of SKU ``desc`` as one resource uses it: ``per`` units of the SKU per
    resource-hour (vCPUs, GiB...), the credit type that applies and the usage source."""
    prices = load_json(_PRICES)
    sku = {**prices["sku_defaults"], **{k["desc"]: k for k in prices["skus"]}[desc]}
    service = (prices["services"][sku["service"]], sku["service"])
    return dict(service=service, sku_id=gcp_sku(service[0], desc), sku_desc=desc,
                rate=sku["rate"], per=per, usage_unit=sku["usage_unit"],
                pricing_unit=sku["pricing_unit"], credit=credit, src=src,
                monthly=sku["monthly"])


def _gcs_lines(reads_free: bool = True):
    return [
        _gl("Standard Storage US Multi-region"),
        _gl("Multi-Region Standard Class A Operations", src="writes"),
        _gl("Multi-Region Standard Class B Operations", src="reads",
            credit="free_tier" if reads_free else None),
    ]


def gcp_groups(w: Window, scale: float, rng: np.random.Generator) -> list[Group]:
    N = w.n_days
    g: list[Group] = []
    num = {p.project_id: p.number for p in C.GCP_PROJECTS}

    def grp(key, project, ids, names, team, model, workload, labels, shape, p, lines,
            metrics=(), notes=None, start=None, end=None, idle=(), job=None):
        gg = new_group(w, key, "gcp", project, ids, names, team, model, workload, labels, shape,
                       p, lines, metrics, notes, start, end, idle, job)
        g.append(gg)
        return gg

    def gce(project, zone, name):
        return f"//compute.googleapis.com/projects/{project}/zones/{zone}/instances/{name}"

    gpu = ("gpu_utilization_pct", "cpu_utilization_pct")
    sp, rx, sh = C.GCP_SEARCH, C.GCP_RECSYS, C.GCP_SHARED
    # --- doc-embedder training VMs on A100 (CUD covered)
    names = ["doc-embedder-train-0", "doc-embedder-train-1"]
    grp("gcp.gce.doc-embedder-train", sp, [gce(sp, "us-central1-a", n) for n in names], names,
        "search-ranking", "doc-embedder", "training",
        {"team": "search-ranking", "model": "doc-embedder", "workload": "training"},
        "always", dict(base=1, fixed=True, m_gpu=(70, 95), machine="a2-highgpu-1g",
                       zone="us-central1-a",
                       # gaps between training campaigns leave the A100 CUD unused
                       pauses=[period(w, 0.35, 21), period(w, 0.8, 12)]),
        [_gl("Nvidia Tesla A100 GPU running in Americas", credit="cud"),
         _gl("A2 Instance Core running in Americas", per=12),
         _gl("A2 Instance Ram running in Americas", per=85),
         _gl("SSD backed PD Capacity", per=500 / 24)], gpu)
    # --- churn-predictor on Vertex AI
    t_lines = [
        _gl("Custom Training: Nvidia Tesla T4 GPU running in Americas", credit="promo"),
        _gl("Custom Training: N1 Predefined Instance Core running in Americas",
            per=8, credit="promo"),
        _gl("Custom Training: N1 Predefined Instance Ram running in Americas",
            per=30, credit="promo"),
    ]
    st, du, lab = weekly_jobs(w, rng, 1, 6.0, (3, 9), scaled_count(1, scale))
    jid = [str(7_000_000_000_000_000_000 + stable_int("cj", d, r) % 10**18) for d, r in lab]
    ids = [f"//aiplatform.googleapis.com/projects/{num[rx]}/locations/us-central1/customJobs/{j}"
           for j in jid]
    js, je = job_range(w, st, du)
    grp("gcp.vertex.churn-train", rx, ids, [f"churn-train-{w.date(d):%Y%m%d}" for d, _ in lab],
        "recommendations", "churn-predictor", "training",
        {"team": "recommendations", "model": "churn-predictor", "workload": "training"},
        "jobs", dict(m_gpu=(55, 85)), t_lines, ("gpu_utilization_pct",), start=js, end=je,
        job=(st, du))
    p_lines = [
        _gl("Online Prediction: N1 Predefined Instance Core running in Americas",
            per=4, credit="promo"),
        _gl("Online Prediction: N1 Predefined Instance Ram running in Americas",
            per=15, credit="promo"),
    ]
    ep = ("invocations", "cpu_utilization_pct")
    vep = f"//aiplatform.googleapis.com/projects/{num[rx]}/locations/us-central1/endpoints/"
    grp("gcp.vertex.churn-endpoint", rx, [vep + "4418871962300334080"], ["churn-predictor-prod"],
        "recommendations", "churn-predictor", "realtime_inference",
        {"team": "recommendations", "model": "churn-predictor",
         "workload": "realtime_inference"},
        "always", dict(base=2, growth=0.04, noise=0.1, m_inv=300_000, m_cpu=(30, 60)),
        p_lines, ep)
    s, e = period(w, 0.7, max(21, int(N * 0.08)))
    grp("gcp.vertex.churn-staging", rx, [vep + "7209432117864923136"],
        ["churn-predictor-staging"], "recommendations", "churn-predictor",
        "realtime_inference", {"team": "recommendations", "model": "churn-predictor"},
        "always", dict(base=1, fixed=True, m_inv=20_000, m_cpu=(5, 15)), p_lines, ep,
        notes="staging endpoint with no traffic for weeks", idle=[(0, "idle_endpoint", s, e)])
    st, du, lab = daily_jobs(w, rng, 2.0, (1.5, 3.0), scaled_count(1, scale))
    jid = [str(3_000_000_000_000_000_000 + stable_int("bp", d, r) % 10**18) for d, r in lab]
    ids = [f"//aiplatform.googleapis.com/projects/{num[rx]}/locations/us-central1/"
           f"batchPredictionJobs/{j}" for j in jid]
    js, je = job_range(w, st, du)
    grp("gcp.vertex.churn-batch", rx, ids, [f"churn-batch-{w.date(d):%Y%m%d}" for d, _ in lab],
        "recommendations", "churn-predictor", "batch_inference",
        {"team": "recommendations", "model": "churn-predictor", "workload": "batch_inference"},
        "jobs", dict(instances=3, m_rec=3_000_000),  # customers scored per instance-hour
        [_gl("Batch Prediction: N1 Predefined Instance Core running in Americas",
             per=8, credit="promo"),
         _gl("Batch Prediction: N1 Predefined Instance Ram running in Americas",
             per=30, credit="promo")], ("batch_records",),
        start=js, end=je, job=(st, du))
    # --- Workbench instances
    wb = ("active_minutes", "gpu_utilization_pct", "cpu_utilization_pct")
    fee = _gl("Workbench Instances Management Fee vCPU", per=8)
    grp("gcp.wb.erin", rx, [gce(rx, "us-central1-b", "erin-workbench")], ["erin-workbench"],
        "recommendations", "none", "experimentation",
        {"team": "search-ranking", "owner": "erin"}, "interactive",
        dict(hours=(6, 10), m_gpu=(20, 60), machine="n1-standard-8", zone="us-central1-b"),
        [_gl("N1 Predefined Instance Core running in Americas", per=8, credit="sud"),
         _gl("N1 Predefined Instance Ram running in Americas", per=30, credit="sud"),
         _gl("Nvidia Tesla T4 GPU running in Americas", credit="sud"), fee], wb,
        notes="mis-labelled team=search-ranking; erin is on recommendations")
    s, e = period(w, 0.45, max(18, int(N * 0.1)))
    grp("gcp.wb.grace", rx, [gce(rx, "us-central1-b", "grace-workbench")], ["grace-workbench"],
        "recommendations", "none", "experimentation",
        {"owner-team": "recommendations", "owner": "grace"}, "interactive",
        dict(hours=(4, 8), machine="n1-standard-4", zone="us-central1-b"),
        [_gl("N1 Predefined Instance Core running in Americas", per=4, credit="sud"),
         _gl("N1 Predefined Instance Ram running in Americas", per=15, credit="sud"),
         dict(fee, per=4)], ("active_minutes", "cpu_utilization_pct"),
        notes="key variant owner-team; instance left running idle",
        idle=[(0, "idle_notebook", s, e)])
    grp("gcp.wb.oscar", sp, [gce(sp, "us-central1-a", "oscar-workbench-t4")],
        ["oscar-workbench-t4"], "search-ranking", "none", "experimentation",
        {"team": "search-ranking", "owner": "oscar"}, "always",
        dict(base=1, fixed=True, m_gpu=(3, 12), machine="n1-standard-4", zone="us-central1-a"),
        [_gl("N1 Predefined Instance Core running in Americas", per=4, credit="sud"),
         _gl("N1 Predefined Instance Ram running in Americas", per=15, credit="sud"),
         _gl("Nvidia Tesla T4 GPU running in Americas", credit="sud"), dict(fee, per=4)], wb,
        notes="T4 Workbench instance kept running 24/7 at <15% GPU (idle shutdown off)",
        idle=[(0, "low_gpu_utilization", 0, N - 1)])
    # --- recsys feature fleet (preemptible, scaled)
    n_f = scaled_count(24, scale)
    names = [f"recsys-feat-{i:03d}" for i in range(n_f)]
    grp("gcp.gce.recsys-feat", rx, [gce(rx, "us-central1-c", n) for n in names], names,
        "recommendations", "recsys-two-tower", "data_processing",
        {"team": "recommendations", "model": "recsys-two-tower", "workload": "data_processing"},
        "fleet", dict(frac=0.5, growth=0.04, season="q4", hours=(6.0, 2.0), m_cpu=(50, 90),
             machine="n1-standard-8", zone="us-central1-c"),
        [_gl("Spot Preemptible N1 Predefined Instance Core running in Americas", per=8),
         _gl("Spot Preemptible N1 Predefined Instance Ram running in Americas", per=30)],
        ("cpu_utilization_pct",))
    # --- Cloud Storage
    prices = load_json(_PRICES)
    for row in prices["gcs_buckets"]:
        bucket, reads = row["bucket"], row["reads"]
        idle = [(0, "orphaned_storage", 0, N - 1)] if reads == 0 else []
        grp(row["key"], _PROJECTS[row["project"]],
            [f"//storage.googleapis.com/projects/_/buckets/{bucket}"], [bucket],
            row["team"], row["model"], "storage", row["labels"], "storage",
            dict(size=[row["size_gb"]], growth=row["growth"], reads=reads,
                 writes=row["writes"]), _gcs_lines(),
            ("read_requests",), notes=row["note"], idle=idle)
    # --- BigQuery
    for row in prices["bigquery_datasets"]:
        project, ds = _PROJECTS[row["project"]], row["dataset"]
        grp(row["key"], project,
            [f"//bigquery.googleapis.com/projects/{project}/datasets/{ds}"], [ds],
            row["team"], "none", "data_processing", row["labels"], "storage",
            dict(size=[row["size_gb"]], growth=0.04, reads=row["tib_scanned"], writes=0.0),
            [_gl("Analysis", src="reads", credit="discount"), _gl("Active Logical Storage")],
            notes=row["note"])
    # --- Dataflow
    st, du, lab = daily_jobs(w, rng, 0.5, (2.0, 4.0), scaled_count(3, scale))
    ids = [f"//dataflow.googleapis.com/projects/{sh}/locations/us-central1/jobs/"
           f"{w.date(d):%Y-%m-%d}_00_30_00-{stable_int('df', d, r) % 10**19}" for d, r in lab]
    js, je = job_range(w, st, du)
    grp("gcp.dataflow.features", sh, ids, [f"feature-etl-{w.date(d):%Y%m%d}-{r}" for d, r in lab],
        "ml-platform", "none", "data_processing",
        {"team": "ml-platform", "workload": "data_processing"}, "jobs",
        dict(instances=10, growth=0.03),
        [_gl("vCPU Time Batch Iowa", per=4),
         _gl("RAM Time Batch Iowa", per=15)],
        start=js, end=je, job=(st, du))
    return g
