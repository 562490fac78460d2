{#- Shared cost split across teams: one row per (shared FOCUS row, receiving team).
    Weights by split_method (docs/attribution.md): fixed shares; proportional to each team's
    direct effective cost in the same provider, billing period and currency, optionally within
    the row's sub account first; even when no team has positive direct cost there.
    Shares are rounded to 10 decimals and every money column is split with the same share; the
    largest share (ties: team name) takes share and money remainders, so the pieces of a row
    sum exactly to it. -#}
with attributed as (
    select * from {{ ref('int_cost_rows_attributed') }}
),

teams as (
    select * from {{ ref('teams') }}
),

fixed_shares as (
    select * from {{ ref('shared_cost_fixed_shares') }}
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
    where s.split_method in ('proportional', 'proportional_sub_account')

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
