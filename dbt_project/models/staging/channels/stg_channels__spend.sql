with

source as (

    select * from {{ source('channels', 'spend') }}

),

renamed as (

    select
        date as spend_date,
        channel_code,
        spend,
        coalesce(impressions, 0) as impressions,
        coalesce(clicks, 0) as clicks,
        _file as source_file,
        _file_date as file_date,
        _row_number as source_row_number
    from source

)

select * from renamed
