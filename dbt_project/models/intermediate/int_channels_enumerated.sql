-- Every channel a channel-grained mart covers: the registry, every code seen in the data, and
-- always `unknown` (where empty codes go). Codes missing from the registry keep their own code,
-- with name and platform `unknown`.
with

registry as (

    select * from {{ ref('stg_channels__registry') }}

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

codes as (

    select channel_code from registry
    union
    select channel_code from users
    union
    select channel_code from visits
    union
    select channel_code from orders
    union
    select channel_code from spend
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
