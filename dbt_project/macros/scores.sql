{#- A 1-5 score from a ladder of thresholds: 5 when `figure` `comparison` the score-5
    threshold, then 4, 3, 2, else 1. The thresholds are columns of `thresholds` named
    <letter>_score_<n>_<bound> (e.g. r_score_5_max_recency_days); `comparison` is `<=` for a
    `max` bound and `>=` for a `min` one. -#}
{% macro score_from_ladder(figure, thresholds, letter, bound, comparison) -%}
    case
        {%- for score in [5, 4, 3, 2] %}
            when {{ figure }} {{ comparison }} {{ thresholds }}.{{ letter }}_score_{{ score }}_{{ bound }}
                then {{ score }}
        {%- endfor %}
        else 1
    end
{%- endmacro %}
