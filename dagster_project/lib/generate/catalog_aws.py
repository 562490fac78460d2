"""AWS part of the resource catalog: SageMaker endpoints, jobs and notebooks, EC2 fleets and
dev boxes, EBS volumes, S3 buckets, Glue and EMR. Prices, SKUs and the bucket and orphaned
volume tables are in ``data/aws_prices.json`` and ``data/aws_ec2_instances.csv``."""

from __future__ import annotations

import numpy as np

from . import company as C
from .fmt import stable_int
from .groups import (
    Group,
    daily_jobs,
    job_range,
    new_group,
    period,
    scaled_count,
    weekly_jobs,
)
from .reference import load_csv, load_json
from .window import Window

_SM = "AmazonSageMaker"
_EC2 = "AmazonEC2"
_SM_NAME = "Amazon SageMaker"
_EC2_NAME = "Amazon Elastic Compute Cloud"
_PRICES = "aws_prices.json"
# The scope of each data-file row, by the short account names the files use.
_ACCOUNTS = {"ml-prod": C.AWS_ML_PROD, "sandbox": C.AWS_SANDBOX, "data": C.AWS_DATA,
             "shared": C.AWS_SHARED}


def _aws_product(name: str, **extra: str) -> dict[str, str]:
    d = {"product_name": name, "region": C.AWS_REGION, "servicename": name}
    d.update({k: v for k, v in extra.items() if v})  # the map holds only attributes with values
    return d


def _line(name: str) -> dict:
    """A priced billing line from the ``lines`` table of the AWS price file."""
    prices = load_json(_PRICES)
    line = prices["lines"][name]
    prod = prices["products"][line["product"]]
    line["product"] = _aws_product(prod["name"], **prod["attrs"])
    return line


def _sm_line(name: str):
    """A SageMaker instance line from the ``sagemaker`` table of the AWS price file."""
    sku = load_json(_PRICES)["sagemaker"][name]
    usage_type, itype = sku["usage_type"], sku["instance_type"]
    return dict(product_code=_SM, servicecode=_SM, usage_type=usage_type,
                operation="RunInstance", unit="Hrs", rate=sku["rate"], per=1.0,
                family="ML Instance", instance_type=itype, instance_family="", desc=sku["desc"],
                product=_aws_product(_SM_NAME, instance_name=itype,
                                     component="Hosting" if "Host" in usage_type else ""))


def _ec2_line(itype: str, purchase: str = "od"):
    """An EC2 instance line (on demand or Spot) from ``aws_ec2_instances.csv``."""
    spec = {r["instance_type"]: r for r in load_csv("aws_ec2_instances.csv")}[itype]
    od, spot = float(spec["on_demand_hourly"]), float(spec["spot_hourly"])
    if purchase == "spot":
        ut, op = f"SpotUsage:{itype}", "RunInstances:SV001"
        desc = f"{itype} Linux/UNIX Spot Instance-hour in US East (N. Virginia) in VPC Zone #1"
    else:
        ut, op = f"BoxUsage:{itype}", "RunInstances"
        desc = f"${od} per On Demand Linux {itype} Instance Hour"
    return dict(product_code=_EC2, servicecode=_EC2, usage_type=ut, operation=op, unit="Hrs",
                rate=od, spot_rate=spot, per=1.0, family="Compute Instance", instance_type=itype,
                instance_family=spec["instance_family"], desc=desc, compute=True,
                purchase=purchase, nf=float(spec["normalization_factor"]),
                product=_aws_product(_EC2_NAME, vcpu=spec["vcpu"], memory=spec["memory"],
                                     operating_system="Linux", tenancy="Shared",
                                     instance_type_family=itype.split(".")[0],
                                     capacitystatus="Used"))


def _ebs_line():
    gb_rate = load_json(_PRICES)["ebs_gp3_gb_month"]
    return dict(product_code=_EC2, servicecode=_EC2, usage_type="EBS:VolumeUsage.gp3",
                operation="CreateVolume-Gp3", unit="GB-Mo", rate=gb_rate, per=1.0, monthly=True,
                family="Storage", instance_type="", instance_family="",
                desc=f"${gb_rate} per GB-month of General Purpose (gp3) provisioned storage - "
                     "US East (Northern Virginia)",
                product=_aws_product(_EC2_NAME, volume_api_name="gp3",
                                     volume_type="General Purpose", storage_media="SSD-backed"))


def _s3_lines(egress: bool):
    names = ["s3-storage", "s3-put", "s3-get"] + (["s3-egress"] if egress else [])
    return [_line(n) for n in names]


def _aws_tags(**kw: str) -> dict[str, str]:
    # CUR 2.0 writes cost allocation tags as user_<normalised key> in the resource_tags map.
    return {f"user_{k}": v for k, v in kw.items()}


def aws_groups(w: Window, scale: float, rng: np.random.Generator) -> list[Group]:
    N = w.n_days
    g: list[Group] = []
    prod, sbx, data = C.AWS_ML_PROD, C.AWS_SANDBOX, C.AWS_DATA

    def arn_sm(acct: str, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{C.AWS_REGION}:{acct}:{kind}/{name}"

    def grp(key, scope, ids, team, model, workload, tags, shape, p, lines, metrics=(),
            notes=None, start=None, end=None, idle=(), names=None, job=None):
        gg = new_group(w, key, "aws", scope, ids, names or [i.rsplit("/", 1)[-1] for i in ids],
                       team, model, workload, tags, shape, p, lines, metrics, notes, start, end,
                       idle, job)
        g.append(gg)
        return gg

    ep = ("invocations", "gpu_utilization_pct", "cpu_utilization_pct")
    # --- SageMaker real-time endpoints
    grp("aws.ep.query-ranker-prod", prod, [arn_sm(prod, "endpoint", "query-ranker-prod")],
        "search-ranking", "query-ranker", "realtime_inference",
        _aws_tags(team="search-ranking", model="query-ranker", workload="realtime_inference",
                  owner="search-oncall"),
        "always", dict(base=2, growth=0.04, noise=0.12, m_inv=1_800_000, m_gpu=(35, 65)),
        [_sm_line("host-ml.g5.2xlarge")], ep)
    s, e = period(w, 0.88, max(21, int(N * 0.1)))
    grp("aws.ep.query-ranker-canary", prod, [arn_sm(prod, "endpoint", "query-ranker-canary")],
        "search-ranking", "query-ranker", "realtime_inference",
        _aws_tags(team="search-ranking", model="query-ranker"),
        "always", dict(base=1, fixed=True, growth=0.0, m_inv=60_000, m_gpu=(8, 20)),
        [_sm_line("host-ml.g5.2xlarge")], ep,
        notes="canary endpoint forgotten after the experiment: zero invocations while billed",
        idle=[(0, "idle_endpoint", s, e)])
    launch = N // 2
    grp("aws.ep.doc-embedder-prod", prod, [arn_sm(prod, "endpoint", "doc-embedder-prod")],
        "search-ranking", "doc-embedder", "realtime_inference",
        _aws_tags(team="Search-Ranking", model="doc-embedder", workload="realtime_inference"),
        "always", dict(base=3, growth=0.05, noise=0.1, m_inv=900_000, m_gpu=(40, 75)),
        [_sm_line("host-ml.g5.2xlarge")], ep,
        notes="launched mid-series (step change in inference cost); team tag value variant",
        start=[launch], end=[N - 1])
    e_ab = max(14, int(N * 0.55)) if N > 14 else N - 1
    e_ab = min(e_ab, N - 1)
    s_ab = max(0, e_ab - 20)
    grp("aws.ep.recsys-ab-test-b", prod, [arn_sm(prod, "endpoint", "recsys-ab-test-b")],
        "recommendations", "recsys-two-tower", "realtime_inference",
        _aws_tags(team="recommendations", model="recsys-two-tower"),
        "always", dict(base=1, fixed=True, growth=0.0, m_inv=250_000, m_gpu=(15, 35)),
        [_sm_line("host-ml.g5.xlarge")], ep,
        notes="A/B arm B kept running after the test ended, deleted three weeks later",
        start=[0], end=[e_ab], idle=[(0, "idle_endpoint", s_ab, e_ab)])

    # --- SageMaker training, batch transform and processing jobs
    st, du, lab = weekly_jobs(w, rng, 0, 2.0, (8, 20), scaled_count(1, scale))
    ids = [arn_sm(prod, "training-job", f"query-ranker-train-{w.date(d):%Y%m%d}-{r:02d}")
           for d, r in lab]
    js, je = job_range(w, st, du)
    grp("aws.train.query-ranker", prod, ids, "search-ranking", "query-ranker", "training",
        _aws_tags(team="search-ranking", model="query-ranker", workload="training"),
        "jobs", dict(m_gpu=(65, 92)),
        [_sm_line("train-ml.p3.2xlarge")],
        ("gpu_utilization_pct",), start=js, end=je, job=(st, du))
    st, du, lab = daily_jobs(w, rng, 1.0, (2.5, 3.5), scaled_count(1, scale))
    ids = [arn_sm(prod, "transform-job", f"query-ranker-nightly-{w.date(d):%Y%m%d}-{r:02d}")
           for d, r in lab]
    js, je = job_range(w, st, du)
    grp("aws.tsform.query-ranker", prod, ids, "search-ranking", "query-ranker", "batch_inference",
        _aws_tags(team="search-ranking", model="query-ranker", workload="batch_inference"),
        "jobs", dict(instances=4, m_rec=2_500_000),  # query-doc pairs re-ranked per inst-hour
        [_sm_line("transform-ml.m5.xlarge")], ("batch_records",),
        start=js, end=je, job=(st, du))
    st, du, lab = daily_jobs(w, rng, 3.0, (3.0, 6.0), scaled_count(1, scale))
    ids = [arn_sm(prod, "processing-job", f"recsys-features-{w.date(d):%Y%m%d}-{r:02d}")
           for d, r in lab]
    js, je = job_range(w, st, du)
    grp("aws.proc.recsys", prod, ids, "recommendations", "recsys-two-tower", "data_processing",
        _aws_tags(team="recommendations", model="recsys-two-tower", workload="data_processing"),
        "jobs", dict(instances=2, season="q4", growth=0.04),
        [_sm_line("processing-ml.m5.4xlarge")],
        start=js, end=je, job=(st, du))

    # --- notebooks / Studio (experimentation)
    nb = ("active_minutes", "cpu_utilization_pct")
    s, e = period(w, 0.3, max(14, int(N * 0.1)))
    grp("aws.nb.bob", sbx, [arn_sm(sbx, "notebook-instance", "bob-sandbox")],
        "search-ranking", "none", "experimentation",
        _aws_tags(team="search_ranking", owner="bob"), "interactive", dict(hours=(5, 9)),
        [_sm_line("notebook-ml.t3.medium")], nb,
        notes="notebook left running over holidays; team tag value variant",
        idle=[(0, "idle_notebook", s, e)])
    studio = ("active_minutes", "gpu_utilization_pct", "cpu_utilization_pct")
    dom = "d-7hx2kq9vplmn"
    grp("aws.studio.alice", sbx, [arn_sm(sbx, "app", f"{dom}/alice/jupyterlab/default")],
        "search-ranking", "none", "experimentation",
        _aws_tags(team="search-ranking", owner="alice"), "interactive",
        dict(hours=(6, 10), m_gpu=(20, 60)),
        [_sm_line("studio-ml.g5.xlarge")],
        studio, names=["alice-jupyterlab"])
    s, e = period(w, 0.6, max(20, int(N * 0.12)))
    grp("aws.studio.frank", sbx, [arn_sm(sbx, "app", f"{dom}/frank/jupyterlab/default")],
        "recommendations", "none", "experimentation",
        _aws_tags(team="recommendations", owner="frank"), "interactive",
        dict(hours=(5, 9), m_gpu=(20, 55)),
        [_sm_line("studio-ml.g5.xlarge")],
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
    st, du, lab = weekly_jobs(w, rng, 2, 4.0, (12, 36), scaled_count(4, scale))
    ids = [f"i-0d{stable_int('recsys-train', d, r) % 16**15:015x}" for d, r in lab]
    js, je = job_range(w, st, du)
    tr_tags = _aws_tags(team="recommendations", model="recsys-two-tower", workload="training")
    grp("aws.train.recsys", prod, ids, "recommendations", "recsys-two-tower", "training",
        tr_tags, "jobs", dict(m_gpu=(70, 95)), [_ec2_line("g5.12xlarge")], gpu,
        start=js, end=je, job=(st, du),
        names=[f"recsys-train-{w.date(d):%Y%m%d}-{r}" for d, r in lab])
    _add_ebs(grp, "aws.ebs.recsys-train", g[-1], 500)
    st1, du1, lab1 = weekly_jobs(w, rng, 1, 20.0, (4, 10), scaled_count(2, scale))
    st2, du2, lab2 = weekly_jobs(w, rng, 4, 20.0, (4, 10), scaled_count(2, scale))
    st = np.concatenate([st1, st2])
    du = np.concatenate([du1, du2])
    lab = lab1 + lab2
    ids = [f"i-0e{stable_int('recsys-spot', i, d, r) % 16**15:015x}"
           for i, (d, r) in enumerate(lab)]
    js, je = job_range(w, st, du)
    grp("aws.spot.recsys", prod, ids, "recommendations", "recsys-two-tower", "training",
        tr_tags, "jobs", dict(m_gpu=(60, 90)), [_ec2_line("g5.4xlarge", "spot")], gpu,
        start=js, end=je, job=(st, du),
        names=[f"recsys-spot-train-{w.date(d):%Y%m%d}-{r}" for d, r in lab])

    # --- recsys nightly batch scoring fleet (the bulk of rows; scaled)
    n_bw = scaled_count(56, scale)
    bw_ids = [f"i-0f{stable_int('recsys-batch', i) % 16**15:015x}" for i in range(n_bw)]
    bw_tags = _aws_tags(team="recommendations", model="recsys-two-tower",
                        workload="batch_inference")
    bw_lines = [_ec2_line("c5.4xlarge", "spot"), _line("ec2-interzone")]
    grp("aws.fleet.recsys-batch", prod, bw_ids, "recommendations", "recsys-two-tower",
        "batch_inference", bw_tags, "fleet",
        dict(frac=0.55, growth=0.045, season="q4", hours=(5.0, 1.5), m_cpu=(55, 90),
             m_rec=30_000_000),  # user-item candidates scored per instance-hour
        bw_lines, ("cpu_utilization_pct", "batch_records"),
        names=[f"recsys-batch-{i:03d}" for i in range(n_bw)])
    _add_ebs(grp, "aws.ebs.recsys-batch", g[-1], 50)

    # --- orphaned EBS volumes (unattached, no owner tag)
    prices = load_json(_PRICES)
    for row in prices["orphaned_ebs"]:
        key, sizes = row["key"], row["sizes_gb"]
        vids = [f"vol-0{stable_int(key, i) % 16**16:016x}" for i in range(len(sizes))]
        grp(key, _ACCOUNTS[row["account"]], vids, row["team"], "none", "storage", None,
            "storage", dict(size=list(sizes), growth=0.0, reads=0.0, writes=0.0),
            [_ebs_line()], ("read_requests",), notes=row["note"],
            idle=[(i, "orphaned_storage", 0, N - 1) for i in range(len(sizes))])

    # --- S3 buckets
    for row in prices["s3_buckets"]:
        reads, egress = row["reads"], row["egress"]
        tags = None if row["tags"] is None else _aws_tags(**row["tags"])
        idle = [(0, "orphaned_storage", 0, N - 1)] if reads == 0 else []
        grp(row["key"], _ACCOUNTS[row["account"]], [row["bucket"]], row["team"], row["model"],
            "storage", tags, "storage",
            dict(size=[row["size_gb"]], growth=row["growth"], reads=reads,
                 writes=row["writes"], egress=egress),
            _s3_lines(egress > 0), ("read_requests",), notes=row["note"], idle=idle)

    # --- data processing: Glue and EMR
    grp("aws.glue.feature-build", data,
        [f"arn:aws:glue:{C.AWS_REGION}:{data}:job/feature-build-daily"], "ml-platform", "none",
        "data_processing", _aws_tags(team="ml-platform"), "fleet",
        dict(frac=1.0, growth=0.03, hours=(30.0, 6.0), max_hours=60.0), [_line("glue-dpu")])
    grp("aws.emr.spark", data,
        [f"arn:aws:elasticmapreduce:{C.AWS_REGION}:{data}:cluster/j-2AXXXXXXGAPLF"],
        "ml-platform", "none", "data_processing", None, "always",
        dict(base=3, growth=0.02, noise=0.2), [_line("emr-m5.xlarge")],
        notes="untagged; attributable via the data-platform account")
    return g


def _add_ebs(grp, key: str, parent: Group, gb: float) -> None:
    """One gp3 volume per instance, billed on the days its instance is billed."""
    vids = [f"vol-0{stable_int(key, iid) % 16**16:016x}" for iid in parent.ids]
    grp(key, parent.scope, vids, parent.team, parent.model, parent.workload, list(parent.tags),
        "mirror", dict(parent=parent.key, size=[gb] * len(vids)), [_ebs_line()],
        start=parent.start, end=parent.end, names=vids)
