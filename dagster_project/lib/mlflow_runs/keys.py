"""The tag / param keys a run's attributes are read from (docs/mlflow.md, "Keys").

Keys are compared normalised: lower case, an `mlcost.` prefix dropped, non-alphanumerics
removed, so `mlcost.instance_type`, `instance_type`, `instanceType` and `instance-type` are one
key. Tags win over params; the first alias present wins.
"""

from __future__ import annotations

import re

ALIASES: dict[str, tuple[str, ...]] = {
    "team": ("team", "ownerteam"),
    "ml_model": ("model", "mlmodel", "modelname"),
    "provider": ("provider", "cloud", "cloudprovider"),
    "instance_type": ("instancetype", "vmsize", "machinetype"),
    "instance_count": ("instancecount", "nodecount", "numnodes", "instances"),
    "dataset_rows": ("datasetrows", "numrows", "trainrows", "rows"),
    "resource_ids": ("resourceid", "resourceids", "resourcearn", "resourcename", "computename",
                     "jobarn", "jobid"),
}


def norm_key(key: str) -> str:
    k = re.sub(r"[^a-z0-9]", "", key.lower())
    return k[len("mlcost"):] if k.startswith("mlcost") and len(k) > len("mlcost") else k


def pick(attr: str, tags: dict[str, str], params: dict[str, str]) -> str | None:
    """The value of `attr` from the run's tags, else its params (None when absent/blank)."""
    for source in (tags, params):
        normed = {}
        for k, v in source.items():
            normed.setdefault(norm_key(k), v)
        for alias in ALIASES[attr]:
            v = normed.get(alias)
            if v is not None and str(v).strip():
                return str(v).strip()
    return None
