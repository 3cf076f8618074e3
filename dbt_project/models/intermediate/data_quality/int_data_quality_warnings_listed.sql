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

channel_codes as (

    select * from {{ ref('int_channel_codes_counted') }}

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

unknown_channels as (

    select
        channel_codes.source_name,
        channel_codes.file_date as warning_date,
        'channel code missing from the channel registry' as warning,
        channel_codes.channel_code as value,
        sum(channel_codes.uses) as affected_rows
    from channel_codes
    inner join unregistered on channel_codes.channel_code = unregistered.channel_code
    group by all

),

final as (

    select * from missing_rules
    union all
    select * from unknown_channels

)

select * from final
