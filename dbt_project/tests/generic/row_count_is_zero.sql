{#- The model has no rows (used with severity warn for lists of warnings). -#}
{% test row_count_is_zero(model) %}

select * from {{ model }}

{% endtest %}
