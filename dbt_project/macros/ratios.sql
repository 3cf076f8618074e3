{#-
    Ratios of the marts. A zero or missing denominator gives NULL, never an error and never 0.

    divide_rate: a DOUBLE fraction (counts over counts, money over money).
    divide_money: money over a count, exact: DECIMAL(18,2) rounded half away from zero, computed
    in integer cents so no binary float is involved.
-#}
{% macro divide_rate(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}

{% macro divide_money(numerator, denominator) -%}
    case
        when coalesce({{ denominator }}, 0) = 0 or {{ numerator }} is null then null
        else cast(
            cast(
                sign({{ numerator }})
                * (
                    (abs(cast({{ numerator }} * 100 as hugeint)) * 2 + cast({{ denominator }} as hugeint))
                    // (2 * cast({{ denominator }} as hugeint))
                ) as decimal(38, 0)
            ) * 0.01 as decimal(18, 2)
        )
    end
{%- endmacro %}

{#- Money at the grain of a mart: exact decimal rounded to cents, half away from zero. -#}
{% macro round_money(expression) -%}
    cast(round({{ expression }}, 2) as decimal(18, 2))
{%- endmacro %}

{#- A comparison with a target: NULL when either side is NULL; equal meets it. -#}
{% macro meets_target(value, target, comparison="'>='") -%}
    case
        when {{ value }} is null or {{ target }} is null then null
        when {{ comparison }} = '<=' then {{ value }} <= {{ target }}
        else {{ value }} >= {{ target }}
    end
{%- endmacro %}
