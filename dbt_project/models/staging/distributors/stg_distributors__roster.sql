with

source as (

    select * from {{ source('distributors', 'roster') }}

),

renamed as (

    select
        _file_date as snapshot_date,
        distributor_id,
        name as distributor_name,
        parent_distributor_id,
        tier,
        status,
        joined_at,
        _file as source_file,
        _row_number as source_row_number
    from source

)

select * from renamed
