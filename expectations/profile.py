"""The figures the suites check, computed in DuckDB, per source and business day.

- The row suite checks the rows a refresh loaded: DuckDB counts, per day, the rows that break
  each row check (a missing key, a value outside its allowed set or range, a pair out of
  order, a conflicting duplicate...), and GX expects every count to be 0. Every check covers
  every row of the batch, and only one small row per day leaves DuckDB, whatever the batch's
  size.
- The batch suite checks the per-day profile of `raw.landed_files` (rejected files, the share
  of quarantined rows, volume).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from ingestion.duplicates import differs_from_first_occurrence
from ingestion.schemas import DaysAfter, NotGreaterThan, SourceSchema

BATCH_PROFILE_SQL = """
with

files as (

    select
        coalesce(cast(file_date as varchar), 'whole file') as day,
        file_date,
        status,
        rows_landed,
        rows_loaded,
        rows_rejected,
    from raw.landed_files
    where source = $source

),

daily as (

    select
        day,
        any_value(file_date) as file_date,
        count(*) filter (where status = 'rejected') as rejected_files,
        cast(sum(rows_landed) as bigint) as rows_landed,
        cast(sum(rows_loaded) as bigint) as rows_loaded,
        cast(sum(rows_rejected) as bigint) as rows_rejected,
    from files
    group by day

),

windowed as (

    select
        daily.*,
        lag(rows_loaded) over (order by file_date) as previous_rows,
        lag(file_date) over (order by file_date) as previous_date,
        median(rows_loaded) over (
            order by file_date
            range between interval 7 day preceding and interval 1 day preceding
        ) as trailing_median_rows,
    from daily

)

select
    day,
    rejected_files,
    rows_landed,
    rows_loaded,
    rows_rejected,
    coalesce(rows_rejected / nullif(rows_landed, 0), 0.0) as quarantine_share,
    case
        when rows_loaded = 0 and previous_rows > 0 and previous_date = file_date - 1 then 1
        else 0
    end as empty_after_rows,
    rows_loaded / nullif(trailing_median_rows, 0) as volume_ratio,
from windowed
where file_date is null or file_date between $start and $end
order by day
"""


def batch_profile(
    con: duckdb.DuckDBPyConnection, schema: SourceSchema, start: date | None, end: date | None
) -> pd.DataFrame:
    """One row per business day of the source in [start, end] (and one for whole files)."""
    return con.execute(
        BATCH_PROFILE_SQL,
        {"source": schema.name, "start": start or date.min, "end": end or date.max},
    ).df()


def rejected_file_reasons(
    con: duckdb.DuckDBPyConnection, schema: SourceSchema, start: date | None, end: date | None
) -> list[tuple[str, str, str]]:
    """(day, file, reason) of the source's rejected files in [start, end]."""
    rows = con.execute(
        "select coalesce(cast(file_date as varchar), 'whole file'), file, reason "
        "from quarantine.rejected_files where source = $source "
        "and (file_date is null or file_date between $start and $end) order by file",
        {"source": schema.name, "start": start or date.min, "end": end or date.max},
    ).fetchall()
    return [(str(day), str(file), str(reason)) for day, file, reason in rows]


@dataclass(frozen=True)
class RowCheck:
    """One check of every raw row: `broken` is SQL over a row, true when it breaks it."""

    metric: str  # the count's column in the per-day metrics, e.g. "order_id__missing"
    broken: str
    words: str  # what a broken row is, e.g. "order_id is missing"


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def row_checks(schema: SourceSchema) -> list[RowCheck]:
    """The checks of the source's raw rows, from its schema."""
    checks: list[RowCheck] = []
    for column in schema.columns:
        name = column.raw_name
        if not column.nullable:
            checks.append(RowCheck(f"{name}__missing", f"{name} is null", f"{name} is missing"))
        if column.kind == "enum" and not column.open_enum:
            checks.append(
                RowCheck(
                    f"{name}__not_allowed",
                    f"{name} not in ({_quoted(column.allowed)})",
                    f"{name} is not one of {', '.join(column.allowed)}",
                )
            )
        if column.kind in ("money", "count"):
            checks.append(RowCheck(f"{name}__negative", f"{name} < 0", f"{name} is negative"))
        if column.kind in ("rate", "fraction"):
            checks.append(
                RowCheck(
                    f"{name}__outside_0_1",
                    f"{name} < 0 or {name} > 1",
                    f"{name} is outside 0 .. 1",
                )
            )
        if column.personal:
            checks.append(
                RowCheck(
                    f"{name}__not_a_digest",
                    f"length({name}) <> 64",
                    f"{name} is not a salted SHA-256 digest (personal data in clear?)",
                )
            )
    for rule in schema.row_rules:
        if isinstance(rule, NotGreaterThan):
            checks.append(
                RowCheck(
                    f"{rule.smaller}__above__{rule.larger}",
                    f"{rule.smaller} > {rule.larger}",
                    rule.reason,
                )
            )
        elif isinstance(rule, DaysAfter):
            checks.append(
                RowCheck(
                    f"{rule.offset_column}__outside_window",
                    f"datediff('day', {rule.start}, {rule.end}) not between 0 and {rule.max_days}",
                    rule.reason,
                )
            )
    if schema.unique_key:
        checks.append(
            RowCheck(
                "key_conflicts",
                "key_conflict",
                f"a conflicting duplicate of {', '.join(schema.unique_key)}",
            )
        )
    checks.append(RowCheck("_file__missing", "_file is null", "_file (lineage) is missing"))
    return checks


DECLARED_COLUMNS = "columns_not_as_declared"
_DUCKDB_NAMES = {"timestamptz": "timestamp with time zone"}


def _declared_columns_sql(schema: SourceSchema) -> str:
    """How many columns the raw table lacks, or has of another type, or has besides."""
    expected = ", ".join(
        f"('{name}', '{_DUCKDB_NAMES.get(kind, kind).replace(' ', '')}')"
        for name, kind in schema.raw_columns.items()
    )
    schema_name, table = schema.raw_table.split(".")
    return f"""(
        select count(*) from (
            (select * from (values {expected}) as declared(column_name, data_type)
             except
             select column_name, replace(lower(data_type), ' ', '') from duckdb_columns()
             where schema_name = '{schema_name}' and table_name = '{table}'
                and database_name = current_database())
            union all
            (select column_name, replace(lower(data_type), ' ', '') from duckdb_columns()
             where schema_name = '{schema_name}' and table_name = '{table}'
                and database_name = current_database()
             except
             select * from (values {expected}) as declared(column_name, data_type))
        )
    )"""


def row_metrics_columns(schema: SourceSchema) -> list[str]:
    """The columns of the per-day metrics frame the row suite validates."""
    return ["day", "rows", *(check.metric for check in row_checks(schema)), DECLARED_COLUMNS]


def row_metrics(
    con: duckdb.DuckDBPyConnection, schema: SourceSchema, files: list[str]
) -> pd.DataFrame:
    """Per business day of the rows loaded from `files`: how many there are, and how many
    break each row check."""
    conflicts = (
        f", {differs_from_first_occurrence(schema)} as key_conflict" if schema.unique_key else ""
    )
    counts = ",\n        ".join(
        f'count(*) filter (where {check.broken}) as "{check.metric}"'
        for check in row_checks(schema)
    )
    sql = f"""
        with batch as (
            select *{conflicts} from {schema.raw_table} where list_contains($files, _file)
        )
        select
            coalesce(cast(_file_date as varchar), 'whole file') as day,
            count(*) as rows,
            {counts},
            {_declared_columns_sql(schema)} as {DECLARED_COLUMNS}
        from batch
        group by all
        order by day
    """
    return con.execute(sql, {"files": files}).df()
