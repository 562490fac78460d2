"""Catalog of every billed resource: ids, truth (team/model/workload), tags as written,
activity shape, billing lines and planted idle periods, plus the commitments (Savings Plan,
reservations, committed use discount) the billing writers apply.

The resources are defined per provider in ``catalog_aws``, ``catalog_gcp`` and
``catalog_azure``; prices and other reference tables are data files in ``data/`` (read by
``reference``). ``Group`` and ``Catalog`` live in ``groups`` and are re-exported here.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from . import company as C
from .catalog_aws import aws_groups
from .catalog_azure import azure_groups
from .catalog_gcp import gcp_groups
from .fmt import guid, stable_int
from .groups import HOURS_PER_DAY, Catalog, Group
from .reference import load_json
from .window import Window

__all__ = ["HOURS_PER_DAY", "Catalog", "Group", "build_catalog"]


def _sp_start(w: Window, sp: dict) -> dt.datetime:
    """Bought `starts_days_before` the window, or later when the window is as long as the
    plan's term (36 months, 3 years): every billed month then lies inside the term."""
    before = w.start - dt.timedelta(days=sp["starts_days_before"])
    latest = w.end.replace(year=w.end.year - sp["years"])
    return dt.datetime.combine(max(before, min(latest, w.start)), dt.time())


def _ri_start(w: Window) -> dt.datetime:
    """Bought with the window's first month, or 18 months before its end in a longer window:
    usage grows towards the end of the window, and an RI bought for the recent fleet would sit
    mostly unused through the early years of a 36-month window."""
    last = w.months[-1].start
    idx = last.year * 12 + last.month - 1 - 17
    return dt.datetime.combine(max(w.start, dt.date(idx // 12, idx % 12 + 1, 1)), dt.time())


def _commitments(w: Window) -> dict:
    aws = load_json("aws_prices.json")
    sp, ri = aws["savings_plan"], aws["reserved_instance"]
    cud = load_json("gcp_prices.json")["cud"]
    az = load_json("azure_prices.json")["reservation"]
    return {
        "aws_sp": dict(
            arn=f"arn:aws:savingsplans::{C.AWS_SHARED}:savingsplan/"
                f"{guid('mlcost', 'compute-sp')}",
            account=C.AWS_SHARED, hourly=sp["hourly"], discount=sp["discount"],
            start=_sp_start(w, sp),
            years=sp["years"]),
        "aws_ri": dict(
            arn=f"arn:aws:ec2:{C.AWS_REGION}:{C.AWS_ML_PROD}:reserved-instances/"
                f"{guid('mlcost', 'ri-g5')}",
            account=C.AWS_ML_PROD, itype=ri["itype"], units=ri["units"],
            upfront_hourly=ri["upfront_hourly"], recurring_hourly=ri["recurring_hourly"],
            years=ri["years"], start=_ri_start(w)),
        "gcp_cud": dict(
            name=cud["name"], project=C.GCP_SEARCH, gpus=cud["gpus"], rate=cud["rate"],
            od_rate=cud["od_rate"]),
        "azure_ri": dict(
            order=guid("mlcost", "azure-ri-order"), rid=guid("mlcost", "azure-ri"),
            name=az["name"], units=az["units"], hourly=az["hourly"], size=az["size"],
            subscription=az["subscription"]),
    }


def build_catalog(w: Window, seed: int, scale: float) -> Catalog:
    # One generator for the three providers, in this order: the job timings depend on it.
    rng = np.random.default_rng([seed, stable_int("catalog") % 2**32])
    groups = aws_groups(w, scale, rng) + gcp_groups(w, scale, rng) + \
        azure_groups(w, scale, rng)
    return Catalog(groups, _commitments(w), scale)
