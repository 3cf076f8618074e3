-- A distributor's state (name, parent, tier, status) with the days it applies to: a snapshot
-- applies from its date until the next snapshot that lists the distributor; the first one also
-- applies to every earlier day.
with

roster as (

    select * from {{ ref('stg_distributors__roster') }}

),

ranged as (

    select
        distributor_id,
        distributor_name,
        parent_distributor_id,
        tier,
        status,
        snapshot_date,
        lead(snapshot_date) over (
            partition by distributor_id order by snapshot_date
        ) as next_snapshot_date,
        row_number() over (
            partition by distributor_id order by snapshot_date
        ) as snapshot_number
    from roster

),

final as (

    select
        distributor_id,
        distributor_name,
        parent_distributor_id,
        tier,
        status,
        snapshot_date,
        case when snapshot_number = 1 then date '0001-01-01' else snapshot_date end as valid_from,
        coalesce(cast(next_snapshot_date - interval 1 day as date), date '9999-12-31') as valid_to
    from ranged

)

select * from final
