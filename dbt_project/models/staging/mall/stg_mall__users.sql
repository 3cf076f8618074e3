with

source as (

    select * from {{ source('mall', 'users') }}

),

renamed as (

    select
        user_id,
        registered_at,
        {{ local_date('registered_at') }} as registered_date,
        coalesce(channel_code, 'unknown') as channel_code,
        referrer_distributor_id,
        phone_hash,
        city,
        _file as source_file,
        _file_date as file_date,
        _row_number as source_row_number
    from source

)

select * from renamed
