"""The figures the batch suites check, per source and business day, from `raw.landed_files`."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from ingestion.duplicates import differs_from_first_occurrence
from ingestion.schemas import DaysAfter, SourceSchema

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


def derived_columns(schema: SourceSchema) -> dict[str, str]:
    """Columns computed for the row suite: name -> SQL over the raw table."""
    derived: dict[str, str] = {}
    for rule in schema.row_rules:
        if isinstance(rule, DaysAfter):
            derived[rule.offset_column] = f"datediff('day', {rule.start}, {rule.end})"
    if schema.unique_key:
        # same key, other content than its first occurrence (exact duplicates are fine)
        derived["key_conflict"] = differs_from_first_occurrence(schema)
    return derived


def new_rows(
    con: duckdb.DuckDBPyConnection, schema: SourceSchema, files: list[str]
) -> pd.DataFrame:
    """The raw rows loaded from `files` in this run: the batch the row suite validates."""
    extra = "".join(f", {sql} as {name}" for name, sql in derived_columns(schema).items())
    return con.execute(
        f"select *{extra} from {schema.raw_table} where list_contains($files, _file)",
        {"files": files},
    ).df()
