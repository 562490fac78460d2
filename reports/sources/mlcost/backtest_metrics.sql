-- Rolling-origin backtest metrics per series and candidate model.
select
    snapshot_id,
    as_of_month,
    level,
    team,
    workload,
    ml_model,
    model,
    selected,
    n_obs,
    n_windows,
    n_points,
    cast(mae as double) as mae,
    cast(mape_pct as double) as mape_pct,
    cast(smape_pct as double) as smape_pct,
    cast(mase as double) as mase,
    cast(coverage_80 as double) as coverage_80,
    cast(coverage_95 as double) as coverage_95,
    note
from read_parquet('../data/exports/backtest_metrics.parquet')
