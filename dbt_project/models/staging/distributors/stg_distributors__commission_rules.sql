with

source as (

    select * from {{ source('distributors', 'commission_rules') }}

),

renamed as (

    select
        tier,
        cast(level as integer) as commission_level,
        rate,
        effective_from,
        coalesce(effective_to, date '9999-12-31') as effective_to,
        _file as source_file,
        _row_number as source_row_number
    from source

)

select * from renamed
