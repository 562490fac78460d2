{#- Shared cost split across teams: one row per (shared FOCUS row, receiving team).
    Weights by split_method (docs/attribution.md): fixed shares; proportional to each team's
    direct effective cost in the same provider, billing period and currency, optionally within
    the row's sub account first; telemetry (GPU-hours or CPU-hours of the resources each team
    owns directly, same provider and billing period), falling back to proportional; even when
    no team has positive direct cost there. Recipients: the teams of the reference set that
    receive shared costs, and every unregistered team with direct cost (open world). With no
    recipient at all the row stays whole on `unallocated` (split_basis none).
    Shares are rounded to 10 decimals and every money column is split with the same share; the
    largest share (ties: team name) takes share and money remainders, so the pieces of a row
    sum exactly to it. -#}
with attributed as (
    select * from {{ ref('int_cost_rows_attributed') }}
),

teams as (
    {{ reference_rows('teams') }}
),

fixed_shares as (
    {{ reference_rows('shared_cost_fixed_shares') }}
),

metrics as (
    select * from {{ ref('stg_mlcost__utilization_metrics') }}
    where metric_name in ('gpu_hours', 'cpu_hours')
),

shared_rows as (
    select *
    from attributed
    where attribution_method = 'shared_split'
),

recipients as (
    select team
    from teams
    where receives_shared_costs

    union distinct

    -- Open world: a team known only from the data (a tag no seed lists) receives too.
    select distinct a.team
    from attributed as a
    left join teams as t on a.team = t.team
    where
        a.team is not null
        and a.team <> 'unallocated'
        and t.team is null
),

direct_costs as (
    select
        a.provider,
        a.billing_period,
        a.billing_currency,
        a.sub_account_id,
        a.team,
        sum(a.effective_cost) as direct_cost
    from attributed as a
    inner join recipients as r on a.team = r.team
    group by a.provider, a.billing_period, a.billing_currency, a.sub_account_id, a.team
),

telemetry_weights as (
    -- Usage hours of the resources each recipient team owns directly (a resource's team is
    -- that of its directly attributed rows in the period; the largest cost wins a tie).
    select
        o.provider,
        o.billing_period,
        m.metric_name,
        o.team,
        sum(m.metric_value) as usage_hours
    from (
        select
            a.provider,
            a.billing_period,
            a.resource_id,
            {{ arg_max('a.team', 'a.effective_cost') }} as team
        from attributed as a
        inner join recipients as r on a.team = r.team
        where a.resource_id is not null
        group by a.provider, a.billing_period, a.resource_id
    ) as o
    inner join metrics as m
        on
            o.provider = m.provider
            and o.resource_id = m.resource_id
            and {{ month_start('m.metric_date') }} = o.billing_period
    group by o.provider, o.billing_period, m.metric_name, o.team
    having sum(m.metric_value) > 0
),

sub_account_weights as (
    select *
    from direct_costs
    where direct_cost > 0
),

provider_weights as (
    select
        provider,
        billing_period,
        billing_currency,
        team,
        sum(direct_cost) as direct_cost
    from direct_costs
    group by provider, billing_period, billing_currency, team
    having sum(direct_cost) > 0
),

candidates as (
    -- basis_rank: the most specific basis available for the row wins.
    select
        s.focus_row_id,
        w.team,
        w.direct_cost as weight,
        1 as basis_rank,
        'sub_account' as split_basis
    from shared_rows as s
    inner join sub_account_weights as w
        on
            s.provider = w.provider
            and s.billing_period = w.billing_period
            and s.billing_currency = w.billing_currency
            and s.sub_account_id = w.sub_account_id
    where s.split_method = 'proportional_sub_account'

    union all

    select
        s.focus_row_id,
        w.team,
        w.direct_cost as weight,
        2 as basis_rank,
        'provider' as split_basis
    from shared_rows as s
    inner join provider_weights as w
        on
            s.provider = w.provider
            and s.billing_period = w.billing_period
            and s.billing_currency = w.billing_currency
    where
        s.split_method in (
            'proportional', 'proportional_sub_account', 'telemetry_gpu_hours', 'telemetry_cpu_hours'
        )

    union all

    select
        s.focus_row_id,
        w.team,
        cast(w.usage_hours as {{ money_type() }}) as weight,
        1 as basis_rank,
        w.metric_name as split_basis
    from shared_rows as s
    inner join telemetry_weights as w
        on
            s.provider = w.provider
            and s.billing_period = w.billing_period
            and s.split_method = 'telemetry_' || w.metric_name

    union all

    select
        s.focus_row_id,
        f.team,
        cast(f.share as {{ money_type() }}) as weight,
        1 as basis_rank,
        'fixed' as split_basis
    from shared_rows as s
    inner join fixed_shares as f on s.shared_rule_id = f.rule_id
    where s.split_method = 'fixed'

    union all

    select
        s.focus_row_id,
        r.team,
        cast(1 as {{ money_type() }}) as weight,
        3 as basis_rank,
        'even' as split_basis
    from shared_rows as s
    cross join recipients as r

    union all

    -- Nobody to split onto (no team registered or seen): the row stays whole, unallocated.
    select
        s.focus_row_id,
        'unallocated' as team,
        cast(1 as {{ money_type() }}) as weight,
        4 as basis_rank,
        'none' as split_basis
    from shared_rows as s
),

chosen as (
    select *
    from candidates
    qualify basis_rank = min(basis_rank) over (partition by focus_row_id)
),

shares as (
    select
        *,
        -- The share is a ratio, not money: rounded to the 10 decimals money_mul keeps.
        {{ to_decimal('round(weight / sum(weight) over (partition by focus_row_id), 10)', 38, 10) }}
            as rounded_share,
        row_number() over (partition by focus_row_id order by weight desc, team asc) as share_rank
    from chosen
),

pieces as (
    select
        s.focus_row_id,
        s.team,
        s.split_basis,
        s.share_rank,
        s.rounded_share,
        {{ money_mul('r.billed_cost', 's.rounded_share') }} as billed_piece,
        {{ money_mul('r.effective_cost', 's.rounded_share') }} as effective_piece,
        {{ money_mul('r.list_cost', 's.rounded_share') }} as list_piece,
        {{ money_mul('r.pricing_quantity', 's.rounded_share') }} as quantity_piece,
        r.billed_cost,
        r.effective_cost,
        r.list_cost,
        r.pricing_quantity
    from shares as s
    inner join shared_rows as r on s.focus_row_id = r.focus_row_id
),

with_remainder as (
    select
        *,
        sum(case when share_rank > 1 then rounded_share else 0 end)
            over (partition by focus_row_id) as other_share,
        sum(case when share_rank > 1 then billed_piece else 0 end)
            over (partition by focus_row_id) as other_billed,
        sum(case when share_rank > 1 then effective_piece else 0 end)
            over (partition by focus_row_id) as other_effective,
        sum(case when share_rank > 1 then list_piece else 0 end)
            over (partition by focus_row_id) as other_list,
        sum(case when share_rank > 1 then quantity_piece else 0 end)
            over (partition by focus_row_id) as other_quantity
    from pieces
),

final as (
    select
        focus_row_id,
        team,
        split_basis,
        {{ to_decimal('case when share_rank = 1 then 1 - other_share else rounded_share end', 38, 10) }}
            as allocation_share,
        cast(
            case when share_rank = 1 then billed_cost - other_billed else billed_piece end
            as {{ money_type() }}
        ) as billed_cost,
        cast(
            case when share_rank = 1 then effective_cost - other_effective else effective_piece end
            as {{ money_type() }}
        ) as effective_cost,
        cast(
            case when share_rank = 1 then list_cost - other_list else list_piece end
            as {{ money_type() }}
        ) as list_cost,
        cast(case
            when pricing_quantity is null then null
            when share_rank = 1 then pricing_quantity - other_quantity
            else quantity_piece
        end as {{ money_type() }}) as pricing_quantity
    from with_remainder
)

select * from final
