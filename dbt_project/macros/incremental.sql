{#-
    Incremental refreshes. The loader keeps a change log (raw.pending_changes, staged as
    stg_landing__pending_changes) of the raw rows it loaded or removed since the last complete
    dbt build; each row is one kind of change (change_kind): a file date, a whole file, an
    entity, the business date of an entity's event, or a day of the run's partition window.
    Entity models recompute the entities named there; daily aggregates recompute the business
    dates named there. Models that use these macros carry a `-- depends_on:` comment for
    stg_landing__pending_changes, since refs inside `is_incremental()` blocks are not seen at
    parse time.
-#}

{% macro pending_entities(source_name) -%}
    select distinct entity_key
    from {{ ref('stg_landing__pending_changes') }}
    where change_kind = 'entity' and source_name = '{{ source_name }}'
{%- endmacro %}

{#- The run's partition window, logged by the dbt asset before the build (as vars it would
    change dbt's configuration every day and undo its partial parsing). -#}
{% macro refresh_window_dates() -%}
    select window_day.business_date as date_day
    from {{ ref('stg_landing__pending_changes') }} as window_day
    where window_day.change_kind = 'refresh_window'
{%- endmacro %}

{#- Pre-hook of an entity model: remove the entities the change log names (also those whose
    rows are all gone, which delete+insert alone would leave behind). -#}
{% macro delete_pending_entities(source_name, key_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ key_column }} in ({{ pending_entities(source_name) }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- File dates to recompute: those of the given sources' changes, and the partition window. -#}
{% macro pending_file_dates(source_names) -%}
    select pending.business_date as date_day
    from {{ ref('stg_landing__pending_changes') }} as pending
    where
        pending.change_kind = 'file_date'
        and pending.source_name in ('{{ source_names | join("', '") }}')
    union
    {{ refresh_window_dates() }}
{%- endmacro %}

{#- Business dates to recompute: event dates of the given sources' changes, their file dates
    and the run's partition window. -#}
{% macro pending_dates(source_names) -%}
    select pending.event_date as date_day
    from {{ ref('stg_landing__pending_changes') }} as pending
    where
        pending.change_kind = 'event_instant'
        and pending.source_name in ('{{ source_names | join("', '") }}')
    union
    {{ pending_file_dates(source_names) }}
{%- endmacro %}

{#- Pre-hook of a daily aggregate (unique key: date and channel): remove every row of the dates
    about to be recomputed. delete+insert on the key alone would leave behind the row of a
    channel that has none on a recomputed date any more. -#}
{% macro delete_recomputed_dates(dates_query) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where date_day in ({{ dates_query }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Dates of the user activity aggregate to recompute: the users' and visits' changed dates,
    and every date a changed user had a session on (a user's channel applies to all dates). -#}
{% macro user_activity_dates() -%}
    {{ pending_dates(['mall_users', 'mall_visits']) }}
    union
    select changed_user_visits.started_date as date_day
    from {{ ref('int_visits_deduplicated') }} as changed_user_visits
    where changed_user_visits.user_id in ({{ pending_entities('mall_users') }})
{%- endmacro %}

{#- Pre-hook of a model keyed on file dates: remove the file dates about to be recomputed. -#}
{% macro delete_pending_file_dates(source_names) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where file_date in ({{ pending_file_dates(source_names) }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro channel_code_sources() -%}
    {{ return(['mall_users', 'mall_visits', 'mall_orders', 'channels_spend']) }}
{%- endmacro %}

{#- Commission lines to recompute (a predicate on order_id and paid_date; true in a full
    build): orders the change log names, and orders paid on or after the first day a changed
    roster snapshot applies to (every order when the earliest snapshot or the commission rules
    changed). -#}
{% macro commission_lines_to_recompute() -%}
    {%- if not is_incremental() -%}
    true
    {%- else -%}
    order_id in ({{ pending_entities('mall_orders') }})
    or paid_date >= (
        select
            case
                when count(*) filter (
                    where pending.change_kind = 'whole_file'
                    and pending.source_name = 'distributors_commission_rules'
                ) > 0 then date '0001-01-01'
                when min(pending.business_date) filter (
                    where pending.change_kind = 'file_date'
                    and pending.source_name = 'distributors_roster'
                ) is null then date '9999-12-31'
                when min(pending.business_date) filter (
                    where pending.change_kind = 'file_date'
                    and pending.source_name = 'distributors_roster'
                ) <= (
                    select min(roster.snapshot_date)
                    from {{ ref('stg_distributors__roster') }} as roster
                ) then date '0001-01-01'
                else min(pending.business_date) filter (
                    where pending.change_kind = 'file_date'
                    and pending.source_name = 'distributors_roster'
                )
            end
        from {{ ref('stg_landing__pending_changes') }} as pending
    )
    {%- endif -%}
{%- endmacro %}

{% macro delete_commission_lines_to_recompute() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ commission_lines_to_recompute() }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Owners of the given source's changed rows (an order's or a session's user_id), old and new. -#}
{% macro pending_owners(source_name) -%}
    select distinct entity_key
    from {{ ref('stg_landing__pending_changes') }}
    where change_kind = 'owner' and source_name = '{{ source_name }}'
{%- endmacro %}

{#- Pre-hook of a per-user model: remove the users about to be recomputed (also those with no
    rows any more). -#}
{% macro delete_recomputed_users(users_query) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where user_id in ({{ users_query }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Buyers to recompute: the users of changed orders (their paid orders) and changed users
    (their acquisition channel, referrer and registration). -#}
{% macro changed_buyers() -%}
    {{ pending_owners('mall_orders') }}
    union
    {{ pending_entities('mall_users') }}
{%- endmacro %}

{#- Dates of the activity aggregate to recompute: the orders' changed dates, and every paid
    date of a changed order's buyer (a buyer's first paid order, which makes a new buyer, can
    move to another of their orders). -#}
{% macro activity_dates() -%}
    {{ pending_dates(['mall_orders']) }}
    union
    select owners_orders.paid_date as date_day
    from {{ ref('int_paid_orders') }} as owners_orders
    where owners_orders.user_id in ({{ pending_owners('mall_orders') }})
{%- endmacro %}

{#- Users of the retention flags to recompute: changed users (their registration date) and the
    users of changed sessions. -#}
{% macro changed_returning_users() -%}
    {{ pending_entities('mall_users') }}
    union
    {{ pending_owners('mall_visits') }}
{%- endmacro %}
