with

source as (

    select * from {{ source('wechat_oa', 'user_cumulate') }}

),

renamed as (

    select
        ref_date as total_date,
        cumulate_user as total_followers,
        _file as source_file,
        _file_date as file_date,
        _row_number as source_row_number
    from source

)

select * from renamed
