-- Every WeChat user_source a follower mart covers: the documented codes plus any code seen,
-- labelled `unknown (<code>)` when undocumented.
with

documented as (

    select * from {{ ref('wechat_user_sources') }}

),

user_summaries as (

    select * from {{ ref('stg_wechat_oa__user_summaries') }}

),

codes as (

    select user_source from documented
    union
    select user_source from user_summaries

),

final as (

    select
        codes.user_source,
        coalesce(
            documented.source_name, 'unknown (' || cast(codes.user_source as varchar) || ')'
        ) as source_name
    from codes
    left join documented on codes.user_source = documented.user_source

)

select * from final
