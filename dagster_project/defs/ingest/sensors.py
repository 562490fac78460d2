"""Sensors that turn deliveries into runs.

`landing_sensor` lists the landing location (local folder or object store; a listing, no
reads) and requests an `ingest` run when an object is new or its fingerprint changed.
`delivery_sensor` reads what each ingest run loaded (the billing periods whose deliveries
changed, in the `meta/deliveries` materialization) and requests `billing_history` runs for
exactly those partitions: one run per contiguous range of months.
"""

from __future__ import annotations

import hashlib
import json
import os

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from dagster_project.defs.ingest.assets import CHANGED_PERIODS, DELIVERIES_KEY
from dagster_project.defs.ingest.partitions import PERIOD_FORMAT, billing_periods
from dagster_project.defs.jobs import billing_history_job, ingest_job
from dagster_project.defs.resources import LandingResource
from dagster_project.lib.landing import changed, list_objects
from dagster_project.lib.periods import periods_to_rebuild

INTERVAL = int(os.environ.get("MLCOST_SENSOR_INTERVAL_SECONDS", "60"))


@dg.sensor(name="landing_sensor", job=ingest_job, minimum_interval_seconds=INTERVAL,
           default_status=dg.DefaultSensorStatus.STOPPED,
           description="Requests an ingest run when a delivery lands or changes (new object, "
                       "or a different ETag / size / modification time).")
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    previous = json.loads(context.cursor) if context.cursor else {}
    current = list_objects(landing.location)
    new = changed(previous, current)
    if not new:
        return dg.SensorResult(skip_reason=f"no new or changed object among {len(current)}",
                               cursor=json.dumps(current, sort_keys=True))
    digest = hashlib.sha256(json.dumps({k: current[k] for k in new}, sort_keys=True).encode())
    context.log.info("%d new or changed object(s), e.g. %s", len(new), ", ".join(new[:5]))
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=digest.hexdigest()[:32],
                                    tags={"mlcost/changed_objects": str(len(new))})],
        cursor=json.dumps(current, sort_keys=True),
    )


def _range_request(first: str, last: str, storage_id: int) -> dg.RunRequest:
    if first == last:
        return dg.RunRequest(run_key=f"{storage_id}:{first}", partition_key=first)
    return dg.RunRequest(run_key=f"{storage_id}:{first}..{last}", tags={
        ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last})


@dg.sensor(name="delivery_sensor", job=billing_history_job, minimum_interval_seconds=INTERVAL,
           default_status=dg.DefaultSensorStatus.STOPPED,
           description="Rebuilds exactly the billing periods whose deliveries an ingest run "
                       "changed.")
def delivery_sensor(context: dg.SensorEvaluationContext):
    after = int(context.cursor) if context.cursor else None
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=DELIVERIES_KEY, after_storage_id=after),
        limit=100, ascending=True).records
    if not records:
        return dg.SkipReason("no ingest run since the last evaluation")
    keys: list[str] = []
    for record in records:
        mat = record.asset_materialization
        value = mat.metadata.get(CHANGED_PERIODS) if mat else None
        keys += value.value if value is not None else []
    # The same decision as `mlcost run` (lib/periods.py).
    rebuild = periods_to_rebuild(
        keys, billing_periods.get_partition_keys(dynamic_partitions_store=context.instance))
    if rebuild.outside:
        context.log.warning(
            "billing period(s) %s are outside the partitions (MLCOST_FIRST_BILLING_PERIOD=%s);"
            " they are loaded but not rebuilt until that setting covers them",
            ", ".join(rebuild.outside), billing_periods.start.strftime(PERIOD_FORMAT))
    last = records[-1].storage_id
    requests = [_range_request(lo, hi, last) for lo, hi in rebuild.ranges]
    return dg.SensorResult(run_requests=requests, cursor=str(last),
                           skip_reason=None if requests else "no billing period changed")


SENSORS = [landing_sensor, delivery_sensor]
