-- Each finding covers part of one month and of its idle run; idle days fit in the period.
select *
from {{ ref('fct_idle_waste') }}
where
    period_start > period_end
    or {{ month_start('period_start') }} <> billing_month
    or {{ month_start('period_end') }} <> billing_month
    or period_start < idle_run_start
    or period_end > idle_run_end
    or idle_days < 1
    or idle_days > {{ days_between('period_end', 'period_start') }} + 1
