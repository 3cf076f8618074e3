with

source as (

    select * from {{ source('wechat_oa', 'user_summary') }}

),

renamed as (

    select
        ref_date as summary_date,
        user_source,
        new_user as new_followers,
        cancel_user as lost_followers,
        _file as source_file,
        _file_date as file_date,
        _row_number as source_row_number
    from source

)

select * from renamed
