-- Non-blocking data-quality warnings, one row per (source, day, warning, value): orders whose
-- earner's tier has no commission rule, and channel codes missing from the registry. The run
-- summary lists them; a warn-severity test makes them visible as a Dagster check.
with

commission_lines as (

    select * from {{ ref('int_commission_lines_computed') }}

),

channels as (

    select * from {{ ref('int_channels_enumerated') }}

),

users as (

    select * from {{ ref('stg_mall__users') }}

),

visits as (

    select * from {{ ref('stg_mall__visits') }}

),

orders as (

    select * from {{ ref('stg_mall__orders') }}

),

spend as (

    select * from {{ ref('stg_channels__spend') }}

),

unregistered as (

    select channel_code from channels
    where not is_registered and channel_code <> 'unknown'

),

missing_rules as (

    select
        'mall_orders' as source_name,
        paid_date as warning_date,
        'no commission rule for the tier of the level-'
        || cast(commission_level as varchar) || ' earner' as warning,
        coalesce(earner_tier, '(distributor not in the roster)') as value,
        count(*) as affected_rows
    from commission_lines
    where not has_rule
    group by all

),

channel_uses as (

    select
        'mall_users' as source_name,
        file_date as warning_date,
        channel_code
    from users
    union all
    select
        'mall_visits' as source_name,
        file_date as warning_date,
        channel_code
    from visits
    union all
    select
        'mall_orders' as source_name,
        file_date as warning_date,
        channel_code
    from orders
    union all
    select
        'channels_spend' as source_name,
        file_date as warning_date,
        channel_code
    from spend

),

unknown_channels as (

    select
        channel_uses.source_name,
        channel_uses.warning_date,
        'channel code missing from the channel registry' as warning,
        channel_uses.channel_code as value,
        count(*) as affected_rows
    from channel_uses
    inner join unregistered on channel_uses.channel_code = unregistered.channel_code
    group by all

),

final as (

    select * from missing_rules
    union all
    select * from unknown_channels

)

select * from final
