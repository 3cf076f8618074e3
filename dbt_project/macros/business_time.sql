{#- A UTC instant (timestamptz) as wall-clock time / date in the business time zone. -#}
{% macro local_timestamp(column) -%}
    timezone('{{ var("business_timezone") }}', {{ column }})
{%- endmacro %}

{% macro local_date(column) -%}
    cast(timezone('{{ var("business_timezone") }}', {{ column }}) as date)
{%- endmacro %}
