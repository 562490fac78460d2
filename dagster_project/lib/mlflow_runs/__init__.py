"""MLflow runs: read a tracking store (reader), land raw.mlflow_runs (land, ingest) and write
each run's cost back to it (sync). docs/mlflow.md.

Nothing heavy is imported with the package: the CLI's parser imports `sync` on every command.
"""

__all__ = ["LoadResult", "load_mlflow_runs"]


def __getattr__(name: str):
    if name in __all__:
        from . import ingest

        return getattr(ingest, name)
    raise AttributeError(name)
