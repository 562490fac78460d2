"""Read every run of an MLflow tracking store into contract rows (raw.mlflow_runs).

mlflow is imported here only, lazily: a run without the `mlflow` extra pays nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from .keys import pick

PAGE = 1000


class StoreUnavailable(Exception):
    """The store cannot be read; `status` is 'unavailable' or 'error' (meta.mlflow_sync_status)."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class ReadResult:
    uri: str
    rows: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def strip_credentials(uri: str) -> str:
    """The URI without user:password@ (never stored or printed)."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _local_path(uri: str) -> Path | None:
    """The file a sqlite:/file: URI names (None for server URIs)."""
    if uri.startswith("sqlite:///"):
        # sqlite:////abs/path is absolute, sqlite:///rel/path relative to the working folder
        return Path(unquote(uri[len("sqlite:///"):].split("?", 1)[0]))
    if uri.startswith("file:"):
        return Path(unquote(urlsplit(uri).path))
    return None


def client_for(uri: str):
    """An MlflowClient on `uri`, or StoreUnavailable with the reason (never creates a store)."""
    safe = strip_credentials(uri)
    path = _local_path(uri)
    if path is not None and not path.exists():
        # MLflow would silently create an empty store here.
        raise StoreUnavailable("error", f"{safe}: no MLflow store at {path} (file not found)")
    # A server that does not answer fails fast instead of retrying for minutes.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise StoreUnavailable("unavailable", "the mlflow client is not installed (install the "
                               "`mlflow` extra: pip install 'mlcost[mlflow]')") from None
    return MlflowClient(tracking_uri=uri)


def _ts(ms) -> dt.datetime | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.UTC).replace(tzinfo=None)


def _int(value: str | None, name: str, issues: list[str], lo: int = 0) -> int | None:
    if value is None:
        return None
    try:
        f = float(value)
        if f != int(f) or f < lo:
            raise ValueError
        return int(f)
    except (ValueError, OverflowError):
        issues.append(f"{name} {value!r} is not a whole number >= {lo}; ignored")
        return None


def run_row(uri: str, exp_name: str, run, loaded_at: dt.datetime) -> dict:
    info, data = run.info, run.data
    tags, params = dict(data.tags), dict(data.params)
    issues: list[str] = []
    start, end = _ts(info.start_time), _ts(info.end_time)
    if start is not None and end is not None and end < start:
        issues.append(f"end_time {end} is before start_time {start}; no time-window match")
    if start is None:
        issues.append("no start_time; no time-window match")
    resources = pick("resource_ids", tags, params)
    ids = ",".join(r.strip() for r in re.split(r"[,\s]+", resources or "") if r.strip())
    return dict(
        tracking_uri=uri, experiment_id=str(info.experiment_id), experiment_name=exp_name,
        run_id=info.run_id, run_name=info.run_name or tags.get("mlflow.runName"),
        status=info.status, start_time=start, end_time=end,
        team=pick("team", tags, params), ml_model=pick("ml_model", tags, params),
        provider=(pick("provider", tags, params) or "").lower() or None,
        instance_type=pick("instance_type", tags, params),
        instance_count=_int(pick("instance_count", tags, params), "instance_count", issues, 1),
        dataset_rows=_int(pick("dataset_rows", tags, params), "dataset_rows", issues),
        resource_ids=ids or None,
        tags_json=json.dumps(tags, sort_keys=True), params_json=json.dumps(params,
                                                                            sort_keys=True),
        issue="; ".join(issues) or None, _loaded_at=loaded_at,
    )


def read_runs(uri: str, loaded_at: dt.datetime) -> ReadResult:
    """Every active run of every active experiment (StoreUnavailable when unreadable)."""
    safe = strip_credentials(uri)
    client = client_for(uri)
    out = ReadResult(safe)
    try:
        exps = client.search_experiments(max_results=50000)
        names = {e.experiment_id: e.name for e in exps}
        ids = sorted(names)
        for i in range(0, len(ids), 50):  # MLflow caps the experiments per search
            token = None
            while True:
                page = client.search_runs(ids[i:i + 50], max_results=PAGE, page_token=token,
                                          order_by=["attributes.start_time ASC"])
                for run in page:
                    row = run_row(safe, names.get(run.info.experiment_id, ""), run, loaded_at)
                    if row["issue"]:
                        out.warnings.append(f"run {row['run_id']} ({row['experiment_name']}): "
                                            f"{row['issue']}")
                    out.rows.append(row)
                token = page.token
                if not token:
                    break
    except StoreUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - any client/store failure is one clear reason
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreUnavailable("error", f"{safe}: reading the MLflow store failed: "
                               f"{type(exc).__name__}: {first[:300]}") from None
    return out
