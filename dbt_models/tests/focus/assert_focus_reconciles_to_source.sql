-- Every (provider, account, period, currency) must reconcile exactly, to the last decimal.
select *
from {{ ref('rpt_focus_reconciliation') }}
where status <> 'reconciled'
