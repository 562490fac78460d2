"""Azure part of the resource catalog: Azure ML training clusters, endpoint and compute
instances, Databricks, storage accounts, the feature VM fleet and managed disks. Meters,
prices and the reservation are in ``data/azure_prices.json``."""

from __future__ import annotations

import numpy as np

from . import company as C
from .fmt import code, guid, stable_int
from .groups import Group, new_group, period, scaled_count
from .reference import load_json
from .window import Window

_PRICES = "azure_prices.json"


def _az_vm_meter(size: str, spot: bool = False, ml: bool = True, ri: bool = False):
    vm = load_json(_PRICES)["vm_sizes"][size]
    meter, series = vm["meter"], vm["series"]
    name = f"{meter} Spot" if spot else meter
    return dict(meter_category="Virtual Machines", meter_sub=vm["meter_sub"], meter_name=name,
                meter_id=guid("meter", name), part_number=code("part", name, n=3) + "-" +
                str(stable_int("pn", name) % 100000).zfill(5),
                product=f"Virtual Machines {series} Series - {name} - US East",
                unit="1 Hour", rate=vm["spot_hourly"] if spot else vm["hourly"], per=1.0,
                service_family="Compute",
                consumed_service=("Microsoft.MachineLearningServices" if ml
                                  else "Microsoft.Compute"),
                additional_info={"UsageType": "ComputeHR", "ImageType": "Canonical",
                                 "ServiceType": f"Standard_{size}"},
                pricing_model="Spot" if spot else "OnDemand", ri=ri, plan_name=meter)


def _meter(name: str) -> dict:
    """A meter of the ``meters`` table; its file ``meter_id`` is the seed of the GUID."""
    m = load_json(_PRICES)["meters"][name]
    m["meter_id"] = guid("meter", m["meter_id"])
    return m


def _az_storage_meters():
    return [_meter("blob-hot-stored"), _meter("blob-hot-read"), _meter("blob-hot-write")]


def _az_disk_meter(tier: str):
    rate = load_json(_PRICES)["premium_disks"][tier]
    return dict(meter_category="Storage", meter_sub="Premium SSD Managed Disks",
                meter_name=f"{tier} LRS Disk", meter_id=guid("meter", tier),
                part_number="AAD-1" + str(stable_int("disk", tier) % 10000).zfill(4),
                product=f"Premium SSD Managed Disks - {tier} LRS - US East", unit="1/Month",
                rate=rate, per=1.0, monthly=True, service_family="Storage",
                consumed_service="Microsoft.Compute", pricing_model="OnDemand", plan_name=tier)


def azure_groups(w: Window, scale: float, rng: np.random.Generator) -> list[Group]:
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
        gg = new_group(w, key, "azure", sub.name, ids, names, team, model, workload, tags, shape,
                       {**p, "resource_group": rg}, lines, metrics, notes, start, end, idle)
        g.append(gg)
        return gg

    ws_prod = "microsoft.machinelearningservices/workspaces/mlw-fraud-prod"
    ws_dev = "microsoft.machinelearningservices/workspaces/mlw-fraud-dev"
    gpu = ("gpu_utilization_pct", "cpu_utilization_pct")
    grp("az.aml.train", prod, [rid(prod, "rg-fraud-ml", f"{ws_prod}/computes/gpu-train")],
        ["gpu-train"], "fraud-detection", "fraud-scorer", "training",
        {"team": "fraud-detection", "model": "fraud-scorer", "workload": "training"}, "fleet",
        dict(frac=1.0, growth=0.04, hours=(6.0, 2.0), nodes=2, m_gpu=(60, 90)),
        [_az_vm_meter("NC6s_v3")], gpu, rg="rg-fraud-ml")
    grp("az.aml.sweep", prod, [rid(prod, "rg-fraud-ml", f"{ws_prod}/computes/gpu-spot")],
        ["gpu-spot"], "fraud-detection", "fraud-scorer", "training",
        {"Team": "fraud", "model": "fraud-scorer"}, "fleet",
        dict(frac=1.0, growth=0.04, hours=(10.0, 4.0), nodes=3, m_gpu=(50, 85)),
        [_az_vm_meter("NC6s_v3", spot=True)], gpu,
        notes="low-priority (Spot) sweep cluster; key and value variant Team=fraud",
        rg="rg-fraud-ml")
    grp("az.aml.endpoint", prod,
        [rid(prod, "rg-fraud-ml", f"{ws_prod}/onlineendpoints/fraud-scorer-online")],
        ["fraud-scorer-online"], "fraud-detection", "fraud-scorer", "realtime_inference",
        {"team": "fraud-detection", "model": "fraud-scorer", "workload": "realtime_inference"},
        "always", dict(base=2, growth=0.03, noise=0.08, m_inv=5_000_000, m_cpu=(35, 70),
                       # scaled in to one instance during a quiet fortnight
                       dips=[(*period(w, 0.25, 14), 1.0)]),
        [_az_vm_meter("DS3_v2", ri=True)],
        ("invocations", "cpu_utilization_pct"), rg="rg-fraud-ml")
    s, e = period(w, 0.55, max(21, int(N * 0.1)))
    grp("az.aml.endpoint-shadow", dev,
        [rid(dev, "rg-fraud-ml-dev", f"{ws_dev}/onlineendpoints/fraud-scorer-shadow")],
        ["fraud-scorer-shadow"], "fraud-detection", "fraud-scorer", "realtime_inference",
        {"team": "fraud-detection", "model": "fraud-scorer"}, "always",
        dict(base=1, fixed=True, m_inv=40_000, m_cpu=(5, 20)),
        [_az_vm_meter("DS3_v2")], ("invocations", "cpu_utilization_pct"),
        notes="shadow deployment left up after the rollout: zero requests while billed",
        idle=[(0, "idle_endpoint", s, e)], rg="rg-fraud-ml-dev")
    grp("az.dbx.features", prod,
        [rid(prod, "rg-fraud-data", "microsoft.databricks/workspaces/dbw-fraud-features")],
        ["dbw-fraud-features"], "fraud-detection", "fraud-scorer", "data_processing", None,
        "fleet", dict(frac=1.0, growth=0.04, hours=(60.0, 15.0), max_hours=200.0),
        [_meter("databricks-jobs-dbu")],
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
        [_az_vm_meter("NC6s_v3")], ci, notes="GPU compute instance never auto-shut-down, <15% GPU",
        idle=[(0, "low_gpu_utilization", 0, N - 1)], rg="rg-fraud-ml-dev")
    grp("az.ci.dan", dev, [rid(dev, "rg-fraud-ml-dev", f"{ws_dev}/computes/ci-dan")],
        ["ci-dan"], "fraud-detection", "none", "experimentation",
        {"Team": "fraud-detection", "owner": "dan"}, "interactive", dict(hours=(6, 10)),
        [_az_vm_meter("DS3_v2")],
        ("active_minutes", "cpu_utilization_pct"), notes="key variant Team",
        rg="rg-fraud-ml-dev")
    grp("az.ci.judy", dev, [rid(dev, "rg-fraud-ml-dev", f"{ws_dev}/computes/ci-judy")],
        ["ci-judy"], "fraud-detection", "none", "experimentation", None, "interactive",
        dict(hours=(5, 9)),
        [_az_vm_meter("DS11_v2")],
        ("active_minutes", "cpu_utilization_pct"),
        notes="untagged; attributable via subscription fraud-dev", rg="rg-fraud-ml-dev")
    s, e = period(w, 0.4, max(14, int(N * 0.1)))
    grp("az.ci.oscar", dev, [rid(dev, "rg-fraud-ml-dev", f"{ws_dev}/computes/ci-oscar")],
        ["ci-oscar"], "fraud-detection", "none", "experimentation",
        {"team": "fraud-detection", "owner": "oscar"}, "interactive", dict(hours=(5, 9)),
        [_az_vm_meter("DS11_v2")], ("active_minutes", "cpu_utilization_pct"),
        notes="compute instance left running without idle shutdown over a holiday",
        idle=[(0, "idle_notebook", s, e)], rg="rg-fraud-ml-dev")
    grp("az.disk.orphan", dev,
        [rid(dev, "rg-fraud-ml-dev", "microsoft.compute/disks/disk-old-gpu-experiment")],
        ["disk-old-gpu-experiment"], "fraud-detection", "none", "storage", None, "storage",
        dict(size=[1], growth=0.0, reads=0.0, writes=0.0), [_az_disk_meter("P30")],
        ("read_requests",), notes="unattached managed disk, no tags, zero reads",
        idle=[(0, "orphaned_storage", 0, N - 1)], rg="rg-fraud-ml-dev")
    # --- feature VMs fleet (scaled); tagged by the platform template, owned by fraud
    n_vm = scaled_count(18, scale)
    names = [f"vm-feat-{i:03d}" for i in range(n_vm)]
    grp("az.vm.features", prod,
        [rid(prod, "rg-fraud-features", f"microsoft.compute/virtualmachines/{n}") for n in names],
        names, "fraud-detection", "fraud-scorer", "data_processing",
        {"team": "ml-platform", "workload": "data_processing"}, "fleet",
        dict(frac=0.6, growth=0.04, hours=(7.0, 2.5), m_cpu=(40, 85)),
        [_az_vm_meter("D4s_v3", ml=False)],
        ("cpu_utilization_pct",),
        notes="mis-tagged team=ml-platform by the platform VM template; fraud-detection owns "
              "the feature jobs", rg="rg-fraud-features")
    disk_ids = [rid(prod, "rg-fraud-features", f"microsoft.compute/disks/{n}_osdisk")
                for n in names]
    grp("az.disk.features", prod, disk_ids, [f"{n}_osdisk" for n in names], "fraud-detection",
        "fraud-scorer", "data_processing", {"team": "ml-platform"}, "storage",
        dict(size=[1] * n_vm, growth=0.0, reads=2e4, writes=5e3),
        [_az_disk_meter("P10")], notes="OS disks of the feature VMs",
        rg="rg-fraud-features")
    return g
