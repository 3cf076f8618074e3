with

source as (

    select * from {{ source('channels', 'registry') }}

),

renamed as (

    select
        channel_code,
        coalesce(channel_name, 'unknown') as channel_name,
        coalesce(platform, 'unknown') as platform,
        launched_on,
        _file as source_file,
        _row_number as source_row_number
    from source

)

select * from renamed
