with

source as (

    select * from {{ source('landing', 'landed_files') }}

),

renamed as (

    select
        source as source_name,
        file as source_file,
        file_date,
        status,
        rows_landed,
        rows_loaded,
        rows_rejected
    from source

)

select * from renamed
