{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['source_name', 'file_date', 'channel_code'],
        pre_hook="{{ delete_pending_file_dates(channel_code_sources()) }}"
    )
}}
-- depends_on: {{ ref('stg_landing__pending_changes') }}
-- How often each channel code is used, per source and file date: one scan of the four sources
-- that carry channel codes, shared by the channel enumeration and the data-quality warnings.
-- A refresh recounts the file dates the change log names (the pre-hook removes their rows).
with

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

uses as (

    select
        'mall_users' as source_name,
        file_date,
        channel_code
    from users
    union all
    select
        'mall_visits' as source_name,
        file_date,
        channel_code
    from visits
    union all
    select
        'mall_orders' as source_name,
        file_date,
        channel_code
    from orders
    union all
    select
        'channels_spend' as source_name,
        file_date,
        channel_code
    from spend

),

recounted_uses as (

    -- one filter for the four sources (pushed into each branch of the union)
    select * from uses
    {% if is_incremental() %}
        where file_date in ({{ pending_file_dates(channel_code_sources()) }})
    {% endif %}

),

final as (

    select
        source_name,
        file_date,
        channel_code,
        count(*) as uses
    from recounted_uses
    group by source_name, file_date, channel_code

)

select * from final
