with

source as (

    select * from {{ source('mall', 'orders') }}

),

renamed as (

    select
        order_id,
        user_id,
        status,
        coalesce(channel_code, 'unknown') as channel_code,
        distributor_id,
        activity_code,
        item_count,
        gross_amount,
        discount_amount,
        paid_amount,
        refund_amount,
        created_at,
        paid_at,
        refunded_at,
        updated_at,
        {{ local_date('created_at') }} as created_date,
        {{ local_date('paid_at') }} as paid_date,
        {{ local_date('refunded_at') }} as refunded_date,
        paid_at is not null as is_paid,
        _file as source_file,
        _file_date as file_date,
        _row_number as source_row_number
    from source

)

select * from renamed
