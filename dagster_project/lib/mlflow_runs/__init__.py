"""MLflow runs: read a tracking store (reader), land raw.mlflow_runs (land, ingest) and write
each run's cost back to it (sync). docs/mlflow.md."""

from .ingest import LoadResult, load_mlflow_runs

__all__ = ["LoadResult", "load_mlflow_runs"]
