-- The loader's change log since the last complete dbt build, with event instants as business
-- dates: what the incremental models recompute.
with

source as (

    select * from {{ source('landing', 'pending_changes') }}

),

renamed as (

    select
        source as source_name,
        file_date,
        entity_key,
        {{ local_date('event_at') }} as event_date
    from source

)

select * from renamed
