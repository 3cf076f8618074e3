{#-
    Daily figures shared by the whole-business marts and their `_by_channel` twins, read from the
    compact daily aggregates (int_visits_aggregated, int_orders_aggregated), whose rows with
    channel_code NULL hold the all-channels figures. `relation` is a CTE name over one of them;
    with `by_channel` the rows are per (date_day, channel_code).
-#}
{% macro channel_grain(by_channel) -%}
    channel_code is {% if by_channel %}not {% endif %}null
{%- endmacro %}

{% macro visitors_by_day(relation, by_channel=false) -%}
    select
        date_day,
        {% if by_channel -%} channel_code, {%- endif %}
        visitors
    from {{ relation }}
    where {{ channel_grain(by_channel) }}
{%- endmacro %}

{% macro paid_orders_by_day(relation, by_channel=false) -%}
    select
        date_day,
        {% if by_channel -%} channel_code, {%- endif %}
        paid_orders,
        buyers,
        units,
        gmv
    from {{ relation }}
    where {{ channel_grain(by_channel) }}
{%- endmacro %}

{% macro refunds_by_day(relation, by_channel=false) -%}
    select
        date_day,
        {% if by_channel -%} channel_code, {%- endif %}
        refunds
    from {{ relation }}
    where {{ channel_grain(by_channel) }}
{%- endmacro %}
