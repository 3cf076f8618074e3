-- One row per (msgid, stat_date): the same detail is re-fetched for 7 days; the file with the
-- latest fetch date wins when values differ.
with

article_totals as (

    select * from {{ ref('stg_wechat_oa__article_totals') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by msgid, stat_date
            order by fetch_date desc, source_file desc, source_row_number desc
        ) as fetch_rank
    from article_totals

),

final as (

    select
        msgid,
        title,
        publish_date,
        stat_date,
        stat_days,
        delivered,
        readers,
        sharers,
        favoriters,
        fetch_date
    from ranked
    where fetch_rank = 1

)

select * from final
