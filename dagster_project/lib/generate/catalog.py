"""Catalog of every billed resource: ids, truth (team/model/workload), tags as written,
activity shape, billing lines and planted idle periods.

A ``Group`` is a set of resources that share everything except their id (e.g. a fleet of
batch workers or the weekly training jobs of one model); activity is generated per
member, so ``scale`` only changes how many members the fleets have.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from . import company as C
from .fmt import code, gcp_sku, guid, stable_int
from .window import Window

HOURS_PER_DAY = 24.0


@dataclass
class Group:
    key: str
    provider: str
    scope: str  # AWS account id, GCP project id or Azure subscription name
    ids: list[str]
    names: list[str]
    team: str
    model: str
    workload: str
    tags: list[dict[str, str] | None]
    notes: list[str]
    start: np.ndarray  # first active day (inclusive), per member
    end: np.ndarray  # last active day (inclusive), per member
    shape: str
    p: dict
    lines: list[dict]
    metrics: tuple[str, ...] = ()
    idle: list[tuple[int, str, int, int]] = field(default_factory=list)
    # per-member job timing (hours since window start), only for shape "jobs"
    job_start: np.ndarray | None = None
    job_dur: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.ids)


@dataclass
class Catalog:
    groups: list[Group]
    commitments: dict  # provider -> commitment parameters
    scale: float


# ------------------------------------------------------------------ helpers
def _n(base: float, scale: float) -> int:
    return max(1, int(round(base * scale)))


def _period(w: Window, frac: float, length: int) -> tuple[int, int]:
    """An inclusive day range of ``length`` days starting near ``frac`` of the window."""
    length = min(length, w.n_days)
    s = min(int(w.n_days * frac), w.n_days - length)
    return s, s + length - 1


def _whole(w: Window, n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(n, dtype=np.int64), np.full(n, w.n_days - 1, dtype=np.int64)


def _weekly_jobs(w: Window, rng: np.random.Generator, weekday: int, hour: float,
                 dur: tuple[float, float], replicas: int, every: int = 1):
    """Start hour and duration of jobs launched every ``every`` weeks on ``weekday``."""
    days = np.nonzero(w.weekday == weekday)[0][::every]
    starts, durs, labels = [], [], []
    for d in days:
        for r in range(replicas):
            starts.append(d * HOURS_PER_DAY + hour + r * 0.25)
            durs.append(rng.uniform(*dur))
            labels.append((int(d), r))
    return np.array(starts, dtype=np.float64), np.array(durs, dtype=np.float64), labels


def _daily_jobs(w: Window, rng: np.random.Generator, hour: float, dur: tuple[float, float],
                replicas: int):
    starts, durs, labels = [], [], []
    for d in range(w.n_days):
        for r in range(replicas):
            starts.append(d * HOURS_PER_DAY + hour + r * 0.1)
            durs.append(rng.uniform(*dur))
            labels.append((d, r))
    return np.array(starts, dtype=np.float64), np.array(durs, dtype=np.float64), labels


def _job_range(w: Window, starts: np.ndarray, durs: np.ndarray):
    s = np.floor(starts / HOURS_PER_DAY).astype(np.int64)
    e = np.floor((starts + durs - 1e-9) / HOURS_PER_DAY).astype(np.int64)
    return s, np.minimum(e, w.n_days - 1)


def _aws_product(name: str, family: str, **extra: str) -> dict[str, str]:
    d = {"product_name": name, "region": C.AWS_REGION, "servicename": name}
    d.update({k: v for k, v in extra.items() if v})  # the map holds only attributes with values
    return d


# ------------------------------------------------------------------ AWS
_SM = "AmazonSageMaker"
_EC2 = "AmazonEC2"
_SM_NAME = "Amazon SageMaker"
_EC2_NAME = "Amazon Elastic Compute Cloud"


def _sm_line(usage_type: str, rate: float, itype: str, desc: str, family: str = "ML Instance"):
    return dict(product_code=_SM, servicecode=_SM, usage_type=usage_type,
                operation="RunInstance", unit="Hrs", rate=rate, per=1.0, family=family,
                instance_type=itype, instance_family="", desc=desc,
                product=_aws_product(_SM_NAME, family, instance_name=itype,
                                     component="Hosting" if "Host" in usage_type else ""))


_EC2_SPECS = {
    # type: (on-demand $/h, vcpu, memory, family, normalization factor, typical spot $/h)
    "g5.xlarge": (1.006, "4", "16 GiB", "GPU instance", 8.0, 0.42),
    "g5.2xlarge": (1.212, "8", "32 GiB", "GPU instance", 16.0, 0.49),
    "g5.4xlarge": (1.624, "16", "64 GiB", "GPU instance", 32.0, 0.66),
    "g5.12xlarge": (5.672, "48", "192 GiB", "GPU instance", 96.0, 2.30),
    "p3.2xlarge": (3.06, "8", "61 GiB", "GPU instance", 16.0, 0.98),
    "c5.4xlarge": (0.68, "16", "32 GiB", "Compute optimized", 32.0, 0.27),
}


def _ec2_line(itype: str, purchase: str = "od"):
    od, vcpu, mem, fam, nf, spot = _EC2_SPECS[itype]
    if purchase == "spot":
        ut, op = f"SpotUsage:{itype}", "RunInstances:SV001"
        desc = f"{itype} Linux/UNIX Spot Instance-hour in US East (N. Virginia) in VPC Zone #1"
    else:
        ut, op = f"BoxUsage:{itype}", "RunInstances"
        desc = f"${od} per On Demand Linux {itype} Instance Hour"
    return dict(product_code=_EC2, servicecode=_EC2, usage_type=ut, operation=op, unit="Hrs",
                rate=od, spot_rate=spot, per=1.0, family="Compute Instance", instance_type=itype,
                instance_family=fam, desc=desc, compute=True, purchase=purchase, nf=nf,
                product=_aws_product(_EC2_NAME, "Compute Instance", vcpu=vcpu, memory=mem,
                                     operating_system="Linux", tenancy="Shared",
                                     instance_type_family=itype.split(".")[0],
                                     capacitystatus="Used"))


def _ebs_line(gb_rate: float = 0.08):
    return dict(product_code=_EC2, servicecode=_EC2, usage_type="EBS:VolumeUsage.gp3",
                operation="CreateVolume-Gp3", unit="GB-Mo", rate=gb_rate, per=1.0, monthly=True,
                family="Storage", instance_type="", instance_family="",
                desc=f"${gb_rate} per GB-month of General Purpose (gp3) provisioned storage - "
                     "US East (Northern Virginia)",
                product=_aws_product(_EC2_NAME, "Storage", volume_api_name="gp3",
                                     volume_type="General Purpose", storage_media="SSD-backed"))


def _s3_lines(egress: bool):
    prod = _aws_product("Amazon Simple Storage Service", "Storage", storage_class="General Purpose",
                        volume_type="Standard")
    lines = [
        dict(product_code="AmazonS3", servicecode="AmazonS3", usage_type="TimedStorage-ByteHrs",
             operation="StandardStorage", unit="GB-Mo", rate=0.023, per=1.0, monthly=True,
             family="Storage", instance_type="", instance_family="", product=prod,
             desc="$0.023 per GB - first 50 TB / month of storage used"),
        dict(product_code="AmazonS3", servicecode="AmazonS3", usage_type="Requests-Tier1",
             operation="PutObject", unit="Requests", rate=0.000005, per=1.0, src="writes",
             family="API Request", instance_type="", instance_family="", product=prod,
             desc="$0.005 per 1,000 PUT, COPY, POST, or LIST requests"),
        dict(product_code="AmazonS3", servicecode="AmazonS3", usage_type="Requests-Tier2",
             operation="GetObject", unit="Requests", rate=0.0000004, per=1.0, src="reads",
             family="API Request", instance_type="", instance_family="", product=prod,
             desc="$0.0004 per 1,000 GET and all other requests"),
    ]
    if egress:
        lines.append(dict(
            product_code="AWSDataTransfer", servicecode="AWSDataTransfer",
            usage_type="USE1-DataTransfer-Out-Bytes", operation="GetObject", unit="GB",
            rate=0.09, per=1.0, src="egress", family="Data Transfer", instance_type="",
            instance_family="", from_loc="US East (N. Virginia)", to_loc="External",
            desc="$0.090 per GB - first 10 TB / month data transfer out beyond the global free "
                 "tier",
            product=_aws_product("AWS Data Transfer", "Data Transfer",
                                 transfer_type="AWS Outbound")))
    return lines


def _aws_tags(**kw: str) -> dict[str, str]:
    # CUR 2.0 writes cost allocation tags as user_<normalised key> in the resource_tags map.
    return {f"user_{k}": v for k, v in kw.items()}


def _aws_groups(w: Window, scale: float, rng: np.random.Generator) -> list[Group]:
    N = w.n_days
    g: list[Group] = []
    prod, sbx, data, shared = C.AWS_ML_PROD, C.AWS_SANDBOX, C.AWS_DATA, C.AWS_SHARED

    def arn_sm(acct: str, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{C.AWS_REGION}:{acct}:{kind}/{name}"

    def grp(key, scope, ids, team, model, workload, tags, shape, p, lines, metrics=(),
            notes=None, start=None, end=None, idle=(), names=None, job=None):
        n = len(ids)
        s, e = _whole(w, n) if start is None else (start, end)
        gg = Group(key, "aws", scope, list(ids), list(names or [i.rsplit("/", 1)[-1] for i in ids]),
                   team, model, workload,
                   tags if isinstance(tags, list) else [tags] * n,
                   notes if isinstance(notes, list) else [notes or ""] * n,
                   np.asarray(s, dtype=np.int64), np.asarray(e, dtype=np.int64), shape, p, lines,
                   tuple(metrics), list(idle))
        if job is not None:
            gg.job_start, gg.job_dur = job
        g.append(gg)
        return gg

    ep = ("invocations", "gpu_utilization_pct", "cpu_utilization_pct")
    # --- SageMaker real-time endpoints
    grp("aws.ep.query-ranker-prod", prod, [arn_sm(prod, "endpoint", "query-ranker-prod")],
        "search-ranking", "query-ranker", "realtime_inference",
        _aws_tags(team="search-ranking", model="query-ranker", workload="realtime_inference",
                  owner="search-oncall"),
        "always", dict(base=2, growth=0.04, noise=0.12, m_inv=1_800_000, m_gpu=(35, 65)),
        [_sm_line("USE1-Host:ml.g5.2xlarge", 1.515, "ml.g5.2xlarge",
                  "$1.515 per Hosting ml.g5.2xlarge hour in US East (N. Virginia)")], ep)
    s, e = _period(w, 0.88, max(21, int(N * 0.1)))
    grp("aws.ep.query-ranker-canary", prod, [arn_sm(prod, "endpoint", "query-ranker-canary")],
        "search-ranking", "query-ranker", "realtime_inference",
        _aws_tags(team="search-ranking", model="query-ranker"),
        "always", dict(base=1, fixed=True, growth=0.0, m_inv=60_000, m_gpu=(8, 20)),
        [_sm_line("USE1-Host:ml.g5.2xlarge", 1.515, "ml.g5.2xlarge",
                  "$1.515 per Hosting ml.g5.2xlarge hour in US East (N. Virginia)")], ep,
        notes="canary endpoint forgotten after the experiment: zero invocations while billed",
        idle=[(0, "idle_endpoint", s, e)])
    launch = N // 2
    grp("aws.ep.doc-embedder-prod", prod, [arn_sm(prod, "endpoint", "doc-embedder-prod")],
        "search-ranking", "doc-embedder", "realtime_inference",
        _aws_tags(team="Search-Ranking", model="doc-embedder", workload="realtime_inference"),
        "always", dict(base=3, growth=0.05, noise=0.1, m_inv=900_000, m_gpu=(40, 75)),
        [_sm_line("USE1-Host:ml.g5.2xlarge", 1.515, "ml.g5.2xlarge",
                  "$1.515 per Hosting ml.g5.2xlarge hour in US East (N. Virginia)")], ep,
        notes="launched mid-series (step change in inference cost); team tag value variant",
        start=[launch], end=[N - 1])
    e_ab = max(14, int(N * 0.55)) if N > 14 else N - 1
    e_ab = min(e_ab, N - 1)
    s_ab = max(0, e_ab - 20)
    grp("aws.ep.recsys-ab-test-b", prod, [arn_sm(prod, "endpoint", "recsys-ab-test-b")],
        "recommendations", "recsys-two-tower", "realtime_inference",
        _aws_tags(team="recommendations", model="recsys-two-tower"),
        "always", dict(base=1, fixed=True, growth=0.0, m_inv=250_000, m_gpu=(15, 35)),
        [_sm_line("USE1-Host:ml.g5.xlarge", 1.408, "ml.g5.xlarge",
                  "$1.408 per Hosting ml.g5.xlarge hour in US East (N. Virginia)")], ep,
        notes="A/B arm B kept running after the test ended, deleted three weeks later",
        start=[0], end=[e_ab], idle=[(0, "idle_endpoint", s_ab, e_ab)])

    # --- SageMaker training, batch transform and processing jobs
    st, du, lab = _weekly_jobs(w, rng, 0, 2.0, (8, 20), _n(1, scale))
    ids = [arn_sm(prod, "training-job", f"query-ranker-train-{w.date(d):%Y%m%d}-{r:02d}")
           for d, r in lab]
    js, je = _job_range(w, st, du)
    grp("aws.train.query-ranker", prod, ids, "search-ranking", "query-ranker", "training",
        _aws_tags(team="search-ranking", model="query-ranker", workload="training"),
        "jobs", dict(m_gpu=(65, 92)),
        [_sm_line("USE1-Train:ml.p3.2xlarge", 3.825, "ml.p3.2xlarge",
                  "$3.825 per Training ml.p3.2xlarge hour in US East (N. Virginia)")],
        ("gpu_utilization_pct",), start=js, end=je, job=(st, du))
    st, du, lab = _daily_jobs(w, rng, 1.0, (2.5, 3.5), _n(1, scale))
    ids = [arn_sm(prod, "transform-job", f"query-ranker-nightly-{w.date(d):%Y%m%d}-{r:02d}")
           for d, r in lab]
    js, je = _job_range(w, st, du)
    grp("aws.tsform.query-ranker", prod, ids, "search-ranking", "query-ranker", "batch_inference",
        _aws_tags(team="search-ranking", model="query-ranker", workload="batch_inference"),
        "jobs", dict(instances=4),
        [_sm_line("USE1-Tsform:ml.m5.xlarge", 0.23, "ml.m5.xlarge",
                  "$0.23 per Batch Transform ml.m5.xlarge hour in US East (N. Virginia)")],
        start=js, end=je, job=(st, du))
    st, du, lab = _daily_jobs(w, rng, 3.0, (3.0, 6.0), _n(1, scale))
    ids = [arn_sm(prod, "processing-job", f"recsys-features-{w.date(d):%Y%m%d}-{r:02d}")
           for d, r in lab]
    js, je = _job_range(w, st, du)
    grp("aws.proc.recsys", prod, ids, "recommendations", "recsys-two-tower", "data_processing",
        _aws_tags(team="recommendations", model="recsys-two-tower", workload="data_processing"),
        "jobs", dict(instances=2, season="q4", growth=0.04),
        [_sm_line("USE1-Processing:ml.m5.4xlarge", 0.922, "ml.m5.4xlarge",
                  "$0.922 per Processing ml.m5.4xlarge hour in US East (N. Virginia)")],
        start=js, end=je, job=(st, du))

    # --- notebooks / Studio (experimentation)
    nb = ("active_minutes", "cpu_utilization_pct")
    s, e = _period(w, 0.3, max(14, int(N * 0.1)))
    grp("aws.nb.bob", sbx, [arn_sm(sbx, "notebook-instance", "bob-sandbox")],
        "search-ranking", "none", "experimentation",
        _aws_tags(team="search_ranking", owner="bob"), "interactive", dict(hours=(5, 9)),
        [_sm_line("USE1-Notebk:ml.t3.medium", 0.05, "ml.t3.medium",
                  "$0.05 per On-Demand Notebook ml.t3.medium hour in US East (N. Virginia)",
                  family="ML Instance")], nb,
        notes="notebook left running over holidays; team tag value variant",
        idle=[(0, "idle_notebook", s, e)])
    studio = ("active_minutes", "gpu_utilization_pct", "cpu_utilization_pct")
    dom = "d-7hx2kq9vplmn"
    grp("aws.studio.alice", sbx, [arn_sm(sbx, "app", f"{dom}/alice/jupyterlab/default")],
        "search-ranking", "none", "experimentation",
        _aws_tags(team="search-ranking", owner="alice"), "interactive",
        dict(hours=(6, 10), m_gpu=(20, 60)),
        [_sm_line("USE1-Studio:JupyterLab-ml.g5.xlarge", 1.41, "ml.g5.xlarge",
                  "$1.41 per Studio JupyterLab ml.g5.xlarge hour in US East (N. Virginia)")],
        studio, names=["alice-jupyterlab"])
    s, e = _period(w, 0.6, max(20, int(N * 0.12)))
    grp("aws.studio.frank", sbx, [arn_sm(sbx, "app", f"{dom}/frank/jupyterlab/default")],
        "recommendations", "none", "experimentation",
        _aws_tags(team="recommendations", owner="frank"), "interactive",
        dict(hours=(5, 9), m_gpu=(20, 55)),
        [_sm_line("USE1-Studio:JupyterLab-ml.g5.xlarge", 1.41, "ml.g5.xlarge",
                  "$1.41 per Studio JupyterLab ml.g5.xlarge hour in US East (N. Virginia)")],
        studio, names=["frank-jupyterlab"],
        notes="JupyterLab space left running with no kernel activity",
        idle=[(0, "idle_notebook", s, e)])

    # --- EC2 dev boxes (low GPU utilisation), SP eligible
    gpu = ("gpu_utilization_pct", "cpu_utilization_pct")
    grp("aws.dev.heidi", sbx, ["i-0a11c0de5ea7e1d01"], "ml-platform", "none", "experimentation",
        _aws_tags(owner_team="ml-platform", owner="heidi"), "always",
        dict(base=1, fixed=True, m_gpu=(3, 12)), [_ec2_line("g5.xlarge")], gpu,
        notes="GPU dev box running 24/7 at <15% GPU; key variant owner-team",
        idle=[(0, "low_gpu_utilization", 0, N - 1)], names=["heidi-dev-g5"])
    s_iv = int(N * 0.15)
    grp("aws.dev.ivan", sbx, ["i-0b22d00dfeed1e502"], "search-ranking", "none", "experimentation",
        None, "always", dict(base=1, fixed=True, m_gpu=(2, 10)), [_ec2_line("p3.2xlarge")], gpu,
        notes="untagged p3 dev box in the shared sandbox account: not attributable by tags "
              "or account",
        start=[s_iv], end=[N - 1], idle=[(0, "low_gpu_utilization", s_iv, N - 1)],
        names=["ivan-p3-dev"])

    # --- recsys inference fleet (RI-covered g5.2xlarge), one member mis-tagged
    n_fleet = 6
    fleet_ids = [f"i-0c{stable_int('recsys-fleet', i) % 16**15:015x}" for i in range(n_fleet)]
    tags = [_aws_tags(team="recommendations", model="recsys-two-tower",
                      workload="realtime_inference")] * n_fleet
    notes = [""] * n_fleet
    tags[2] = _aws_tags(team="search-ranking", model="recsys-two-tower")
    notes[2] = "mis-tagged team=search-ranking; owned by recommendations"
    grp("aws.fleet.recsys-serving", prod, fleet_ids, "recommendations", "recsys-two-tower",
        "realtime_inference", tags, "fleet",
        dict(frac=0.6, growth=0.03, season="q4", hours="full", down_p=0.03, m_gpu=(30, 60)),
        [_ec2_line("g5.2xlarge")], gpu, notes=notes,
        names=[f"recsys-serving-{i}" for i in range(n_fleet)])
    _add_ebs(grp, "aws.ebs.recsys-serving", g[-1], 200)

    # --- recsys training on on-demand EC2 (SP eligible) and spot training
    st, du, lab = _weekly_jobs(w, rng, 2, 4.0, (12, 36), _n(4, scale))
    ids = [f"i-0d{stable_int('recsys-train', d, r) % 16**15:015x}" for d, r in lab]
    js, je = _job_range(w, st, du)
    tr_tags = _aws_tags(team="recommendations", model="recsys-two-tower", workload="training")
    grp("aws.train.recsys", prod, ids, "recommendations", "recsys-two-tower", "training",
        tr_tags, "jobs", dict(m_gpu=(70, 95)), [_ec2_line("g5.12xlarge")], gpu,
        start=js, end=je, job=(st, du),
        names=[f"recsys-train-{w.date(d):%Y%m%d}-{r}" for d, r in lab])
    _add_ebs(grp, "aws.ebs.recsys-train", g[-1], 500)
    st1, du1, lab1 = _weekly_jobs(w, rng, 1, 20.0, (4, 10), _n(2, scale))
    st2, du2, lab2 = _weekly_jobs(w, rng, 4, 20.0, (4, 10), _n(2, scale))
    st = np.concatenate([st1, st2])
    du = np.concatenate([du1, du2])
    lab = lab1 + lab2
    ids = [f"i-0e{stable_int('recsys-spot', i, d, r) % 16**15:015x}"
           for i, (d, r) in enumerate(lab)]
    js, je = _job_range(w, st, du)
    grp("aws.spot.recsys", prod, ids, "recommendations", "recsys-two-tower", "training",
        tr_tags, "jobs", dict(m_gpu=(60, 90)), [_ec2_line("g5.4xlarge", "spot")], gpu,
        start=js, end=je, job=(st, du),
        names=[f"recsys-spot-train-{w.date(d):%Y%m%d}-{r}" for d, r in lab])

    # --- recsys nightly batch scoring fleet (the bulk of rows; scaled)
    n_bw = _n(56, scale)
    bw_ids = [f"i-0f{stable_int('recsys-batch', i) % 16**15:015x}" for i in range(n_bw)]
    bw_tags = _aws_tags(team="recommendations", model="recsys-two-tower",
                        workload="batch_inference")
    bw_lines = [_ec2_line("c5.4xlarge", "spot"), dict(
        product_code=_EC2, servicecode=_EC2, usage_type="USE1-DataTransfer-Regional-Bytes",
        operation="InterZone-In", unit="GB", rate=0.01, per=2.5, family="Data Transfer",
        instance_type="", instance_family="", from_loc="US East (N. Virginia)",
        to_loc="US East (N. Virginia)", desc="$0.010 per GB - regional data transfer - in/out/"
        "between EC2 AZs or using elastic IPs or ELB",
        product=_aws_product(_EC2_NAME, "Data Transfer", transfer_type="IntraRegion"))]
    grp("aws.fleet.recsys-batch", prod, bw_ids, "recommendations", "recsys-two-tower",
        "batch_inference", bw_tags, "fleet",
        dict(frac=0.55, growth=0.045, season="q4", hours=(5.0, 1.5), m_cpu=(55, 90)),
        bw_lines, ("cpu_utilization_pct",), names=[f"recsys-batch-{i:03d}" for i in range(n_bw)])
    _add_ebs(grp, "aws.ebs.recsys-batch", g[-1], 50)

    # --- orphaned EBS volumes (unattached, no owner tag)
    for key, acct, sizes, team, note in (
        ("aws.ebs.orphan-sandbox", sbx, (500, 1000), "search-ranking",
         "orphaned volume left behind by a terminated dev box"),
        ("aws.ebs.orphan-prod", prod, (200,), "recommendations",
         "orphaned volume from an old recsys training run"),
    ):
        vids = [f"vol-0{stable_int(key, i) % 16**16:016x}" for i in range(len(sizes))]
        grp(key, acct, vids, team, "none", "storage", None, "storage",
            dict(size=list(sizes), growth=0.0, reads=0.0, writes=0.0),
            [_ebs_line()], ("read_requests",), notes=note,
            idle=[(i, "orphaned_storage", 0, N - 1) for i in range(len(sizes))])

    # --- S3 buckets
    for key, acct, bucket, team, model, tags, size_gb, growth, reads, writes, egress, note in (
        ("aws.s3.datalake", data, "mlcost-datalake-raw", "ml-platform", "none",
         _aws_tags(team="ml-platform", workload="storage"), 150_000, 0.035, 2e6, 4e5, 60.0, ""),
        ("aws.s3.features", data, "mlcost-feature-store", "ml-platform", "none", None, 40_000,
         0.04, 8e6, 1e6, 0.0, "untagged; attributable via the data-platform account"),
        ("aws.s3.qr-artifacts", prod, "mlcost-query-ranker-artifacts", "search-ranking",
         "query-ranker", _aws_tags(team="search-ranking", model="query-ranker"), 3_000, 0.05,
         5e4, 2e3, 0.0, ""),
        ("aws.s3.recsys-data", prod, "mlcost-recsys-training-data", "recommendations",
         "recsys-two-tower", _aws_tags(owner_team="recommendations", model="recsys-two-tower"),
         60_000, 0.05, 1.2e6, 3e5, 0.0, "key variant owner-team"),
        ("aws.s3.sandbox-scratch", sbx, "mlcost-sandbox-scratch", "recommendations", "none",
         _aws_tags(team="search-ranking"), 5_000, 0.06, 2e5, 5e4, 0.0,
         "mis-tagged team=search-ranking; frank's recommendations experiments"),
        ("aws.s3.legacy", shared, "mlcost-legacy-exports-2023", "ml-platform", "none", None,
         80_000, 0.0, 0.0, 0.0, 0.0, "orphaned bucket: no owner tag, zero reads"),
    ):
        idle = [(0, "orphaned_storage", 0, N - 1)] if reads == 0 else []
        grp(key, acct, [bucket], team, model, "storage", tags, "storage",
            dict(size=[size_gb], growth=growth, reads=reads, writes=writes, egress=egress),
            _s3_lines(egress > 0), ("read_requests",), notes=note, idle=idle)

    # --- data processing: Glue and EMR
    grp("aws.glue.feature-build", data,
        [f"arn:aws:glue:{C.AWS_REGION}:{data}:job/feature-build-daily"], "ml-platform", "none",
        "data_processing", _aws_tags(team="ml-platform"), "fleet",
        dict(frac=1.0, growth=0.03, hours=(30.0, 6.0), max_hours=60.0),
        [dict(product_code="AWSGlue", servicecode="AWSGlue", usage_type="USE1-ETL-DPU-Hour",
              operation="Jobrun", unit="DPU-Hour", rate=0.44, per=1.0, family="AWS Glue",
              instance_type="", instance_family="", desc="$0.44 per DPU-Hour for each Apache "
              "Spark or Spark Streaming job", product=_aws_product("AWS Glue", "AWS Glue"))])
    grp("aws.emr.spark", data,
        [f"arn:aws:elasticmapreduce:{C.AWS_REGION}:{data}:cluster/j-2AXXXXXXGAPLF"],
        "ml-platform", "none", "data_processing", None, "always",
        dict(base=3, growth=0.02, noise=0.2),
        [dict(product_code="ElasticMapReduce", servicecode="ElasticMapReduce",
              usage_type="USE1-BoxUsage:m5.xlarge", operation="RunInstances", unit="Hrs",
              rate=0.048, per=1.0, family="Elastic Map Reduce Instance",
              instance_type="m5.xlarge", instance_family="General purpose",
              desc="$0.048 per hour for EMR m5.xlarge",
              product=_aws_product("Amazon Elastic MapReduce", "Elastic Map Reduce Instance"))],
        notes="untagged; attributable via the data-platform account")
    return g


def _add_ebs(grp, key: str, parent: Group, gb: float) -> None:
    """One gp3 volume per instance, billed on the days its instance is billed."""
    vids = [f"vol-0{stable_int(key, iid) % 16**16:016x}" for iid in parent.ids]
    grp(key, parent.scope, vids, parent.team, parent.model, parent.workload, list(parent.tags),
        "mirror", dict(parent=parent.key, size=[gb] * len(vids)), [_ebs_line()],
        start=parent.start, end=parent.end, names=vids)


# ------------------------------------------------------------------ GCP
_GCE = ("6F81-5844-456A", "Compute Engine")
_VERTEX = ("C7E2-9256-1C43", "Vertex AI")
_GCS = ("95FF-2EF5-5EA1", "Cloud Storage")
_BQ = ("24E6-581D-38E5", "BigQuery")
_DATAFLOW = ("9B5C-0A33-F6C2", "Dataflow")


def _gl(service, desc, rate, per=1.0, usage_unit="seconds", pricing_unit="hour", credit=None,
        src="qty", monthly=False):
    return dict(service=service, sku_id=gcp_sku(service[0], desc), sku_desc=desc, rate=rate,
                per=per, usage_unit=usage_unit, pricing_unit=pricing_unit, credit=credit,
                src=src, monthly=monthly)


def _gcs_lines(reads_free: bool = True):
    return [
        _gl(_GCS, "Standard Storage US Multi-region", 0.026, usage_unit="byte-seconds",
            pricing_unit="gibibyte month", monthly=True),
        _gl(_GCS, "Multi-Region Standard Class A Operations", 0.000005, usage_unit="requests",
            pricing_unit="count", src="writes"),
        _gl(_GCS, "Multi-Region Standard Class B Operations", 0.0000004, usage_unit="requests",
            pricing_unit="count", src="reads", credit="free_tier" if reads_free else None),
    ]


def _gcp_groups(w: Window, scale: float, rng: np.random.Generator) -> list[Group]:
    N = w.n_days
    g: list[Group] = []
    num = {p.project_id: p.number for p in C.GCP_PROJECTS}

    def grp(key, project, ids, names, team, model, workload, labels, shape, p, lines,
            metrics=(), notes=None, start=None, end=None, idle=(), job=None):
        n = len(ids)
        s, e = _whole(w, n) if start is None else (start, end)
        gg = Group(key, "gcp", project, list(ids), list(names), team, model, workload,
                   labels if isinstance(labels, list) else [labels] * n,
                   notes if isinstance(notes, list) else [notes or ""] * n,
                   np.asarray(s, dtype=np.int64), np.asarray(e, dtype=np.int64), shape, p, lines,
                   tuple(metrics), list(idle))
        if job is not None:
            gg.job_start, gg.job_dur = job
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
                       pauses=[_period(w, 0.35, 21), _period(w, 0.8, 12)]),
        [_gl(_GCE, "Nvidia Tesla A100 GPU running in Americas", 2.933908, credit="cud"),
         _gl(_GCE, "A2 Instance Core running in Americas", 0.031611, per=12),
         _gl(_GCE, "A2 Instance Ram running in Americas", 0.004237, per=85,
             pricing_unit="gibibyte hour"),
         _gl(_GCE, "SSD backed PD Capacity", 0.17, per=500 / 24, usage_unit="byte-seconds",
             pricing_unit="gibibyte month", monthly=True)], gpu)
    # --- churn-predictor on Vertex AI
    t_lines = [
        _gl(_VERTEX, "Custom Training: Nvidia Tesla T4 GPU running in Americas", 0.4025,
            credit="promo"),
        _gl(_VERTEX, "Custom Training: N1 Predefined Instance Core running in Americas",
            0.0436, per=8, credit="promo"),
        _gl(_VERTEX, "Custom Training: N1 Predefined Instance Ram running in Americas",
            0.005859, per=30, pricing_unit="gibibyte hour", credit="promo"),
    ]
    st, du, lab = _weekly_jobs(w, rng, 1, 6.0, (3, 9), _n(1, scale))
    jid = [str(7_000_000_000_000_000_000 + stable_int("cj", d, r) % 10**18) for d, r in lab]
    ids = [f"//aiplatform.googleapis.com/projects/{num[rx]}/locations/us-central1/customJobs/{j}"
           for j in jid]
    js, je = _job_range(w, st, du)
    grp("gcp.vertex.churn-train", rx, ids, [f"churn-train-{w.date(d):%Y%m%d}" for d, _ in lab],
        "recommendations", "churn-predictor", "training",
        {"team": "recommendations", "model": "churn-predictor", "workload": "training"},
        "jobs", dict(m_gpu=(55, 85)), t_lines, ("gpu_utilization_pct",), start=js, end=je,
        job=(st, du))
    p_lines = [
        _gl(_VERTEX, "Online Prediction: N1 Predefined Instance Core running in Americas",
            0.0436, per=4, credit="promo"),
        _gl(_VERTEX, "Online Prediction: N1 Predefined Instance Ram running in Americas",
            0.005859, per=15, pricing_unit="gibibyte hour", credit="promo"),
    ]
    ep = ("invocations", "cpu_utilization_pct")
    vep = f"//aiplatform.googleapis.com/projects/{num[rx]}/locations/us-central1/endpoints/"
    grp("gcp.vertex.churn-endpoint", rx, [vep + "4418871962300334080"], ["churn-predictor-prod"],
        "recommendations", "churn-predictor", "realtime_inference",
        {"team": "recommendations", "model": "churn-predictor",
         "workload": "realtime_inference"},
        "always", dict(base=2, growth=0.04, noise=0.1, m_inv=300_000, m_cpu=(30, 60)),
        p_lines, ep)
    s, e = _period(w, 0.7, max(21, int(N * 0.08)))
    grp("gcp.vertex.churn-staging", rx, [vep + "7209432117864923136"],
        ["churn-predictor-staging"], "recommendations", "churn-predictor",
        "realtime_inference", {"team": "recommendations", "model": "churn-predictor"},
        "always", dict(base=1, fixed=True, m_inv=20_000, m_cpu=(5, 15)), p_lines, ep,
        notes="staging endpoint with no traffic for weeks", idle=[(0, "idle_endpoint", s, e)])
    st, du, lab = _daily_jobs(w, rng, 2.0, (1.5, 3.0), _n(1, scale))
    jid = [str(3_000_000_000_000_000_000 + stable_int("bp", d, r) % 10**18) for d, r in lab]
    ids = [f"//aiplatform.googleapis.com/projects/{num[rx]}/locations/us-central1/"
           f"batchPredictionJobs/{j}" for j in jid]
    js, je = _job_range(w, st, du)
    grp("gcp.vertex.churn-batch", rx, ids, [f"churn-batch-{w.date(d):%Y%m%d}" for d, _ in lab],
        "recommendations", "churn-predictor", "batch_inference",
        {"team": "recommendations", "model": "churn-predictor", "workload": "batch_inference"},
        "jobs", dict(instances=3),
        [_gl(_VERTEX, "Batch Prediction: N1 Predefined Instance Core running in Americas",
             0.0436, per=8, credit="promo"),
         _gl(_VERTEX, "Batch Prediction: N1 Predefined Instance Ram running in Americas",
             0.005859, per=30, pricing_unit="gibibyte hour", credit="promo")],
        start=js, end=je, job=(st, du))
    # --- Workbench instances
    wb = ("active_minutes", "gpu_utilization_pct", "cpu_utilization_pct")
    fee = _gl(_VERTEX, "Workbench Instances Management Fee vCPU", 0.005, per=8)
    grp("gcp.wb.erin", rx, [gce(rx, "us-central1-b", "erin-workbench")], ["erin-workbench"],
        "recommendations", "none", "experimentation",
        {"team": "search-ranking", "owner": "erin"}, "interactive",
        dict(hours=(6, 10), m_gpu=(20, 60), machine="n1-standard-8", zone="us-central1-b"),
        [_gl(_GCE, "N1 Predefined Instance Core running in Americas", 0.031611, per=8,
             credit="sud"),
         _gl(_GCE, "N1 Predefined Instance Ram running in Americas", 0.004237, per=30,
             pricing_unit="gibibyte hour", credit="sud"),
         _gl(_GCE, "Nvidia Tesla T4 GPU running in Americas", 0.35, credit="sud"), fee], wb,
        notes="mis-labelled team=search-ranking; erin is on recommendations")
    s, e = _period(w, 0.45, max(18, int(N * 0.1)))
    grp("gcp.wb.grace", rx, [gce(rx, "us-central1-b", "grace-workbench")], ["grace-workbench"],
        "recommendations", "none", "experimentation",
        {"owner-team": "recommendations", "owner": "grace"}, "interactive",
        dict(hours=(4, 8), machine="n1-standard-4", zone="us-central1-b"),
        [_gl(_GCE, "N1 Predefined Instance Core running in Americas", 0.031611, per=4,
             credit="sud"),
         _gl(_GCE, "N1 Predefined Instance Ram running in Americas", 0.004237, per=15,
             pricing_unit="gibibyte hour", credit="sud"),
         dict(fee, per=4)], ("active_minutes", "cpu_utilization_pct"),
        notes="key variant owner-team; instance left running idle",
        idle=[(0, "idle_notebook", s, e)])
    # --- recsys feature fleet (preemptible, scaled)
    n_f = _n(24, scale)
    names = [f"recsys-feat-{i:03d}" for i in range(n_f)]
    grp("gcp.gce.recsys-feat", rx, [gce(rx, "us-central1-c", n) for n in names], names,
        "recommendations", "recsys-two-tower", "data_processing",
        {"team": "recommendations", "model": "recsys-two-tower", "workload": "data_processing"},
        "fleet", dict(frac=0.5, growth=0.04, season="q4", hours=(6.0, 2.0), m_cpu=(50, 90),
             machine="n1-standard-8", zone="us-central1-c"),
        [_gl(_GCE, "Spot Preemptible N1 Predefined Instance Core running in Americas",
             0.006655, per=8),
         _gl(_GCE, "Spot Preemptible N1 Predefined Instance Ram running in Americas",
             0.000892, per=30, pricing_unit="gibibyte hour")], ("cpu_utilization_pct",))
    # --- Cloud Storage
    for key, project, bucket, team, model, labels, size, growth, reads, writes, note in (
        ("gcp.gcs.search-data", sp, "search-prod-training-data", "search-ranking",
         "doc-embedder", {"team": "search_ranking", "model": "doc-embedder"}, 20_000, 0.05,
         3e5, 5e4, "team label value variant"),
        ("gcp.gcs.lake", sh, "shared-data-lake", "ml-platform", "none", None, 120_000, 0.04,
         4e6, 8e5, "unlabelled; attributable via project shared-data"),
        ("gcp.gcs.scratch", rx, "recsys-exp-scratch-2024", "recommendations", "none", None,
         15_000, 0.0, 0.0, 0.0, "orphaned bucket: unlabelled, zero reads"),
    ):
        idle = [(0, "orphaned_storage", 0, N - 1)] if reads == 0 else []
        grp(key, project, [f"//storage.googleapis.com/projects/_/buckets/{bucket}"], [bucket],
            team, model, "storage", labels, "storage",
            dict(size=[size], growth=growth, reads=reads, writes=writes), _gcs_lines(),
            ("read_requests",), notes=note, idle=idle)
    # --- BigQuery
    for key, project, ds, team, labels, tib, gb, note in (
        ("gcp.bq.shared", sh, "features", "ml-platform", None, 10.0, 40_000,
         "unlabelled; attributable via project shared-data"),
        ("gcp.bq.search", sp, "search_logs", "search-ranking", {"team": "search-ranking"}, 4.0,
         8_000, ""),
    ):
        grp(key, project, [f"//bigquery.googleapis.com/projects/{project}/datasets/{ds}"], [ds],
            team, "none", "data_processing", labels, "storage",
            dict(size=[gb], growth=0.04, reads=tib, writes=0.0),
            [_gl(_BQ, "Analysis", 6.25, usage_unit="bytes", pricing_unit="tebibyte",
                 src="reads", credit="discount"),
             _gl(_BQ, "Active Logical Storage", 0.02, usage_unit="byte-seconds",
                 pricing_unit="gibibyte month", monthly=True)], notes=note)
    # --- Dataflow
    st, du, lab = _daily_jobs(w, rng, 0.5, (2.0, 4.0), _n(3, scale))
    ids = [f"//dataflow.googleapis.com/projects/{sh}/locations/us-central1/jobs/"
           f"{w.date(d):%Y-%m-%d}_00_30_00-{stable_int('df', d, r) % 10**19}" for d, r in lab]
    js, je = _job_range(w, st, du)
    grp("gcp.dataflow.features", sh, ids, [f"feature-etl-{w.date(d):%Y%m%d}-{r}" for d, r in lab],
        "ml-platform", "none", "data_processing",
        {"team": "ml-platform", "workload": "data_processing"}, "jobs",
        dict(instances=10, growth=0.03),
        [_gl(_DATAFLOW, "vCPU Time Batch Iowa", 0.056, per=4),
         _gl(_DATAFLOW, "RAM Time Batch Iowa", 0.003557, per=15, pricing_unit="gibibyte hour")],
        start=js, end=je, job=(st, du))
    return g


# ------------------------------------------------------------------ Azure
def _az_vm_meter(series: str, sub: str, meter: str, size: str, rate: float, spot: bool = False,
                 ml: bool = True, ri: bool = False):
    name = f"{meter} Spot" if spot else meter
    return dict(meter_category="Virtual Machines", meter_sub=sub, meter_name=name,
                meter_id=guid("meter", name), part_number=code("part", name, n=3) + "-" +
                str(stable_int("pn", name) % 100000).zfill(5),
                product=f"Virtual Machines {series} Series - {name} - US East",
                unit="1 Hour", rate=rate, per=1.0, service_family="Compute",
                consumed_service=("Microsoft.MachineLearningServices" if ml
                                  else "Microsoft.Compute"),
                additional_info={"UsageType": "ComputeHR", "ImageType": "Canonical",
                                 "ServiceType": f"Standard_{size}"},
                pricing_model="Spot" if spot else "OnDemand", ri=ri, plan_name=meter)


def _az_storage_meters():
    return [
        dict(meter_category="Storage", meter_sub="General Block Blob v2",
             meter_name="Hot LRS Data Stored", meter_id=guid("meter", "hot-lrs"),
             part_number="AAD-34851", product="General Block Blob v2 - Hot LRS - US East",
             unit="1 GB/Month", rate=0.0184, per=1.0, monthly=True, service_family="Storage",
             consumed_service="Microsoft.Storage", pricing_model="OnDemand", plan_name="Hot"),
        dict(meter_category="Storage", meter_sub="General Block Blob v2",
             meter_name="Hot Read Operations", meter_id=guid("meter", "hot-read"),
             part_number="AAD-34862", product="General Block Blob v2 - Hot Read Operations - "
             "US East", unit="10K", rate=0.0044, per=1e-4, src="reads",
             service_family="Storage", consumed_service="Microsoft.Storage",
             pricing_model="OnDemand", plan_name="Hot"),
        dict(meter_category="Storage", meter_sub="General Block Blob v2",
             meter_name="Hot Write Operations", meter_id=guid("meter", "hot-write"),
             part_number="AAD-34859", product="General Block Blob v2 - Hot Write Operations - "
             "US East", unit="10K", rate=0.055, per=1e-4, src="writes",
             service_family="Storage", consumed_service="Microsoft.Storage",
             pricing_model="OnDemand", plan_name="Hot"),
    ]


def _az_disk_meter(tier: str, rate: float):
    return dict(meter_category="Storage", meter_sub="Premium SSD Managed Disks",
                meter_name=f"{tier} LRS Disk", meter_id=guid("meter", tier),
                part_number="AAD-1" + str(stable_int("disk", tier) % 10000).zfill(4),
                product=f"Premium SSD Managed Disks - {tier} LRS - US East", unit="1/Month",
                rate=rate, per=1.0, monthly=True, service_family="Storage",
                consumed_service="Microsoft.Compute", pricing_model="OnDemand", plan_name=tier)


def _azure_groups(w: Window, scale: float, rng: np.random.Generator) -> list[Group]:
    N = w.n_days
    g: list[Group] = []
    prod = C.AZURE_SUB_BY_NAME["fraud-prod"]
    dev = C.AZURE_SUB_BY_NAME["fraud-dev"]

    def rid(sub, rg, provider_path):
        # Resource ids are written lower-cased, the form the metrics contract keys on.
        return f"/subscriptions/{sub.subscription_id}/resourcegroups/{rg}/providers/" \
               f"{provider_path}".lower()

    def grp(key, sub, ids, names, team, model, workload, tags, shape, p, lines, metrics=(),
            notes=None, idle=(), start=None, end=None, rg=""):
        n = len(ids)
        s, e = _whole(w, n) if start is None else (start, end)
        q = dict(p)
        q["resource_group"] = rg
        gg = Group(key, "azure", sub.name, list(ids), list(names), team, model, workload,
                   tags if isinstance(tags, list) else [tags] * n,
                   notes if isinstance(notes, list) else [notes or ""] * n,
                   np.asarray(s, dtype=np.int64), np.asarray(e, dtype=np.int64), shape, q, lines,
                   tuple(metrics), list(idle))
        g.append(gg)
        return gg

    ws_prod = "microsoft.machinelearningservices/workspaces/mlw-fraud-prod"
    ws_dev = "microsoft.machinelearningservices/workspaces/mlw-fraud-dev"
    gpu = ("gpu_utilization_pct", "cpu_utilization_pct")
    nc6 = ("NCSv3", "NCSv3 Series", "NC6s v3", "NC6s_v3", 3.06)
    grp("az.aml.train", prod, [rid(prod, "rg-fraud-ml", f"{ws_prod}/computes/gpu-train")],
        ["gpu-train"], "fraud-detection", "fraud-scorer", "training",
        {"team": "fraud-detection", "model": "fraud-scorer", "workload": "training"}, "fleet",
        dict(frac=1.0, growth=0.04, hours=(6.0, 2.0), nodes=2, m_gpu=(60, 90)),
        [_az_vm_meter(*nc6)], gpu, rg="rg-fraud-ml")
    grp("az.aml.sweep", prod, [rid(prod, "rg-fraud-ml", f"{ws_prod}/computes/gpu-spot")],
        ["gpu-spot"], "fraud-detection", "fraud-scorer", "training",
        {"Team": "fraud", "model": "fraud-scorer"}, "fleet",
        dict(frac=1.0, growth=0.04, hours=(10.0, 4.0), nodes=3, m_gpu=(50, 85)),
        [_az_vm_meter(*nc6[:4], 0.306, spot=True)], gpu,
        notes="low-priority (Spot) sweep cluster; key and value variant Team=fraud",
        rg="rg-fraud-ml")
    grp("az.aml.endpoint", prod,
        [rid(prod, "rg-fraud-ml", f"{ws_prod}/onlineendpoints/fraud-scorer-online")],
        ["fraud-scorer-online"], "fraud-detection", "fraud-scorer", "realtime_inference",
        {"team": "fraud-detection", "model": "fraud-scorer", "workload": "realtime_inference"},
        "always", dict(base=2, growth=0.03, noise=0.08, m_inv=5_000_000, m_cpu=(35, 70),
                       # scaled in to one instance during a quiet fortnight
                       dips=[(*_period(w, 0.25, 14), 1.0)]),
        [_az_vm_meter("DSv2", "Dv2/DSv2 Series", "D3 v2/DS3 v2", "DS3_v2", 0.293, ri=True)],
        ("invocations", "cpu_utilization_pct"), rg="rg-fraud-ml")
    grp("az.dbx.features", prod,
        [rid(prod, "rg-fraud-data", "microsoft.databricks/workspaces/dbw-fraud-features")],
        ["dbw-fraud-features"], "fraud-detection", "fraud-scorer", "data_processing", None,
        "fleet", dict(frac=1.0, growth=0.04, hours=(60.0, 15.0), max_hours=200.0),
        [dict(meter_category="Azure Databricks", meter_sub="Premium Jobs Compute",
              meter_name="Premium Jobs Compute DBU", meter_id=guid("meter", "dbu-jobs"),
              part_number="AAA-92517", product="Azure Databricks - Premium - Jobs Compute - DBU",
              unit="1 Hour", rate=0.30, per=1.0, service_family="Analytics",
              consumed_service="Microsoft.Databricks", pricing_model="OnDemand",
              plan_name="Premium")],
        notes="untagged; attributable via subscription fraud-prod", rg="rg-fraud-data")
    grp("az.st.features", prod,
        [rid(prod, "rg-fraud-data", "microsoft.storage/storageaccounts/stfraudfeatures")],
        ["stfraudfeatures"], "fraud-detection", "fraud-scorer", "storage",
        {"owner-team": "fraud-detection"}, "storage",
        dict(size=[30_000], growth=0.04, reads=3e6, writes=4e5), _az_storage_meters(),
        ("read_requests",), notes="key variant owner-team", rg="rg-fraud-data")
    # --- compute instances (experimentation)
    ci = ("active_minutes", "gpu_utilization_pct", "cpu_utilization_pct")
    grp("az.ci.carol", dev, [rid(dev, "rg-fraud-ml-dev", f"{ws_dev}/computes/ci-carol")],
        ["ci-carol"], "fraud-detection", "none", "experimentation",
        {"team": "fraud-detection", "owner": "carol"}, "always",
        dict(base=1, fixed=True, m_gpu=(3, 12), m_active=True),
        [_az_vm_meter(*nc6)], ci, notes="GPU compute instance never auto-shut-down, <15% GPU",
        idle=[(0, "low_gpu_utilization", 0, N - 1)], rg="rg-fraud-ml-dev")
    grp("az.ci.dan", dev, [rid(dev, "rg-fraud-ml-dev", f"{ws_dev}/computes/ci-dan")],
        ["ci-dan"], "fraud-detection", "none", "experimentation",
        {"Team": "fraud-detection", "owner": "dan"}, "interactive", dict(hours=(6, 10)),
        [_az_vm_meter("DSv2", "Dv2/DSv2 Series", "D3 v2/DS3 v2", "DS3_v2", 0.293)],
        ("active_minutes", "cpu_utilization_pct"), notes="key variant Team",
        rg="rg-fraud-ml-dev")
    grp("az.ci.judy", dev, [rid(dev, "rg-fraud-ml-dev", f"{ws_dev}/computes/ci-judy")],
        ["ci-judy"], "fraud-detection", "none", "experimentation", None, "interactive",
        dict(hours=(5, 9)),
        [_az_vm_meter("DSv2", "Dv2/DSv2 Series", "D11 v2/DS11 v2", "DS11_v2", 0.185)],
        ("active_minutes", "cpu_utilization_pct"),
        notes="untagged; attributable via subscription fraud-dev", rg="rg-fraud-ml-dev")
    grp("az.disk.orphan", dev,
        [rid(dev, "rg-fraud-ml-dev", "microsoft.compute/disks/disk-old-gpu-experiment")],
        ["disk-old-gpu-experiment"], "fraud-detection", "none", "storage", None, "storage",
        dict(size=[1], growth=0.0, reads=0.0, writes=0.0), [_az_disk_meter("P30", 135.17)],
        ("read_requests",), notes="unattached managed disk, no tags, zero reads",
        idle=[(0, "orphaned_storage", 0, N - 1)], rg="rg-fraud-ml-dev")
    # --- feature VMs fleet (scaled); tagged by the platform template, owned by fraud
    n_vm = _n(18, scale)
    names = [f"vm-feat-{i:03d}" for i in range(n_vm)]
    grp("az.vm.features", prod,
        [rid(prod, "rg-fraud-features", f"microsoft.compute/virtualmachines/{n}") for n in names],
        names, "fraud-detection", "fraud-scorer", "data_processing",
        {"team": "ml-platform", "workload": "data_processing"}, "fleet",
        dict(frac=0.6, growth=0.04, hours=(7.0, 2.5), m_cpu=(40, 85)),
        [_az_vm_meter("DSv3", "Dv3/DSv3 Series", "D4 v3/D4s v3", "D4s_v3", 0.192, ml=False)],
        ("cpu_utilization_pct",),
        notes="mis-tagged team=ml-platform by the platform VM template; fraud-detection owns "
              "the feature jobs", rg="rg-fraud-features")
    disk_ids = [rid(prod, "rg-fraud-features", f"microsoft.compute/disks/{n}_osdisk")
                for n in names]
    grp("az.disk.features", prod, disk_ids, [f"{n}_osdisk" for n in names], "fraud-detection",
        "fraud-scorer", "data_processing", {"team": "ml-platform"}, "storage",
        dict(size=[1] * n_vm, growth=0.0, reads=2e4, writes=5e3),
        [_az_disk_meter("P10", 19.71)], notes="OS disks of the feature VMs",
        rg="rg-fraud-features")
    return g


# ------------------------------------------------------------------ commitments
def _commitments(w: Window) -> dict:
    return {
        "aws_sp": dict(
            arn=f"arn:aws:savingsplans::{C.AWS_SHARED}:savingsplan/"
                f"{guid('mlcost', 'compute-sp')}",
            account=C.AWS_SHARED, hourly=2.5, discount=0.72,
            start=dt.datetime.combine(w.start - dt.timedelta(days=45), dt.time()),
            years=3),
        "aws_ri": dict(
            arn=f"arn:aws:ec2:{C.AWS_REGION}:{C.AWS_ML_PROD}:reserved-instances/"
                f"{guid('mlcost', 'ri-g5')}",
            account=C.AWS_ML_PROD, itype="g5.2xlarge", units=4, upfront_hourly=0.3333,
            recurring_hourly=0.3338, years=3,
            start=dt.datetime.combine(w.start, dt.time())),
        "gcp_cud": dict(
            name="a100-commit-1y", project=C.GCP_SEARCH, gpus=2, rate=1.848379,
            od_rate=2.933908),
        "azure_ri": dict(
            order=guid("mlcost", "azure-ri-order"), rid=guid("mlcost", "azure-ri"),
            name="RI_DS3v2_fraud_endpoint", units=2, hourly=0.1708, size="DS3_v2",
            subscription="fraud-prod"),
    }


def build_catalog(w: Window, seed: int, scale: float) -> Catalog:
    rng = np.random.default_rng([seed, stable_int("catalog") % 2**32])
    groups = _aws_groups(w, scale, rng) + _gcp_groups(w, scale, rng) + \
        _azure_groups(w, scale, rng)
    return Catalog(groups, _commitments(w), scale)
