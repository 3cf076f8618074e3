{#-
    Daily aggregates shared by the whole-business marts and their `_by_channel` twins, so the
    two grains cannot drift apart. `relation` is a CTE name; with `by_channel` the rows are per
    (date_day, channel_code).
-#}
{% macro visitors_by_day(relation, by_channel=false) -%}
    select
        started_date as date_day,
        {% if by_channel -%} channel_code, {%- endif %}
        count(distinct user_id) as visitors
    from {{ relation }}
    group by all
{%- endmacro %}

{% macro paid_orders_by_day(relation, by_channel=false) -%}
    select
        paid_date as date_day,
        {% if by_channel -%} channel_code, {%- endif %}
        count(*) as paid_orders,
        count(distinct user_id) as buyers,
        sum(item_count) as units,
        sum(paid_amount) as gmv
    from {{ relation }}
    where is_paid
    group by all
{%- endmacro %}

{% macro refunds_by_day(relation, by_channel=false) -%}
    select
        refunded_date as date_day,
        {% if by_channel -%} channel_code, {%- endif %}
        sum(refund_amount) as refunds
    from {{ relation }}
    where refunded_date is not null and refund_amount > 0
    group by all
{%- endmacro %}
