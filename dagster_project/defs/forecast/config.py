"""Run configuration of the forecast assets: the scenarios file and the horizon."""

import dagster as dg

from dagster_project.lib.forecast.config import DEFAULT_HORIZON


class ForecastRunConfig(dg.Config):
    """What `mlcost run` and the schedule forecast with (the same inputs as `mlcost forecast`).

    ``scenarios``: the planning assumptions file (None: $MLCOST_SCENARIOS, else `scenarios` in
    mlcost.toml, else scenarios.yml beside the landing folder when it exists). ``horizon``:
    months to forecast.
    """

    scenarios: str | None = None
    horizon: int = DEFAULT_HORIZON


def scenarios_or_fail(config: ForecastRunConfig):
    """The validated scenarios file (or None), else a Dagster failure naming its problems."""
    from dagster_project.exit_codes import ExitError
    from dagster_project.lib.forecast.command import load_scenarios

    try:
        return load_scenarios(config.scenarios)
    except ExitError as exc:
        raise dg.Failure(description=str(exc)) from None
