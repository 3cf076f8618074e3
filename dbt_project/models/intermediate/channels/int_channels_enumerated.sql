-- Every channel a channel-grained mart covers: the registry, every code seen in the data, and
-- always `unknown` (where empty codes go). Codes missing from the registry keep their own code,
-- with name and platform `unknown`.
with

registry as (

    select * from {{ ref('stg_channels__registry') }}

),

channel_codes as (

    select * from {{ ref('int_channel_codes_counted') }}

),

codes as (

    select channel_code from registry
    union
    select channel_code from channel_codes
    union
    select 'unknown' as channel_code

),

final as (

    select
        codes.channel_code,
        coalesce(registry.channel_name, 'unknown') as channel_name,
        coalesce(registry.platform, 'unknown') as platform,
        registry.channel_code is not null as is_registered
    from codes
    left join registry on codes.channel_code = registry.channel_code

)

select * from final
