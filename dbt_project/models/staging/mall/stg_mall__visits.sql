with

source as (

    select * from {{ source('mall', 'visits') }}

),

renamed as (

    select
        session_id,
        user_id,
        started_at,
        {{ local_date('started_at') }} as started_date,
        coalesce(channel_code, 'unknown') as channel_code,
        page_views,
        _file as source_file,
        _file_date as file_date,
        _row_number as source_row_number
    from source

)

select * from renamed
