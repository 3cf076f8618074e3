-- The loader's change log since the last complete dbt build, with event instants as business
-- dates: what the incremental models recompute. change_kind says which column holds the change.
with

source as (

    select * from {{ source('landing', 'pending_changes') }}

),

renamed as (

    select
        change_kind,
        source as source_name,
        business_date,
        entity_key,
        {{ local_date('event_at') }} as event_date
    from source

)

select * from renamed
