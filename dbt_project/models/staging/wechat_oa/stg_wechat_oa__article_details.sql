with

source as (

    select * from {{ source('wechat_oa', 'article_detail') }}

),

renamed as (

    select
        msgid,
        title,
        publish_type,
        ref_date as publish_date,
        stat_date,
        datediff('day', ref_date, stat_date) + 1 as stat_days,
        read_user as readers,
        share_user as sharers,
        collection_user as collectors,
        like_user as likers,
        zaikan_user as wows,
        comment_count as comments,
        read_subscribe_user as followers_after_read,
        read_delivery_rate as wechat_open_rate,
        read_finish_rate,
        _file_date as fetch_date,
        _file as source_file,
        _row_number as source_row_number
    from source

)

select * from renamed
