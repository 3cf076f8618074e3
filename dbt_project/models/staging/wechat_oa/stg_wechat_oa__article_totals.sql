with

source as (

    select * from {{ source('wechat_oa', 'article_total') }}

),

renamed as (

    select
        msgid,
        title,
        ref_date as publish_date,
        stat_date,
        datediff('day', ref_date, stat_date) + 1 as stat_days,
        target_user as delivered,
        int_page_read_user as readers,
        int_page_read_count as reads_count,
        share_user as sharers,
        share_count as shares_count,
        add_to_fav_user as favoriters,
        add_to_fav_count as favorites_count,
        _file_date as fetch_date,
        _file as source_file,
        _row_number as source_row_number
    from source

)

select * from renamed
