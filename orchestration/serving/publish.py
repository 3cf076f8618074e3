"""Publish the serving file: write a new DuckDB file, then swap it in atomically.

Readers (analysts, BI tools) keep their snapshot of the old file while it is replaced; the next
connection sees the new data. The swap is `os.replace`, so a crash at any point leaves either
the old file or the new one, never a half-written one. A stale `<file>.wal` left by a crashed
writer is removed before the swap so DuckDB can never replay it into the new file.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb

from ingestion.queries import fetch_value, sql_literal
from ingestion.schemas import SOURCES
from ingestion.working_database import TableColumn, WorkingTable

PUBLISHED_SCHEMAS = ("marts", "quarantine")


@dataclass(frozen=True)
class PublishReport:
    path: str
    storage_version: str
    tables: dict[str, int]  # "schema.table" -> rows


def _copy_schema(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    tables = con.execute(
        "select table_name from duckdb_tables() "
        "where database_name = 'work' and schema_name = ? order by table_name",
        [schema],
    ).fetchall()
    copied: dict[str, int] = {}
    con.execute(f"create schema if not exists serving.{schema}")
    for (table,) in tables:
        con.execute(
            f'create table serving.{schema}."{table}" as select * from work.{schema}."{table}"'
        )
        count = fetch_value(con, f'select count(*) from serving.{schema}."{table}"')
        copied[f"{schema}.{table}"] = int(count or 0)
    _copy_comments(con, schema)
    return copied


def _copy_comments(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    """The descriptions of the schema's tables and columns (dbt's persist_docs, the working
    tables' definitions): `create table as` does not carry them over."""
    for table, comment in con.execute(
        "select table_name, comment from duckdb_tables() "
        "where database_name = 'work' and schema_name = ? and comment is not null",
        [schema],
    ).fetchall():
        con.execute(f'comment on table serving.{schema}."{table}" is {sql_literal(comment)}')
    for table, column, comment in con.execute(
        "select table_name, column_name, comment from duckdb_columns() "
        "where database_name = 'work' and schema_name = ? and comment is not null",
        [schema],
    ).fetchall():
        con.execute(
            f'comment on column serving.{schema}."{table}"."{column}" is {sql_literal(comment)}'
        )


# What a dashboard shows as "data as of": one row per landing source.
PUBLISH_INFO = WorkingTable(
    schema="marts",
    name="publish_info",
    description=(
        "The publish record of this file, one row per landing source: when it was published, "
        "by which Siyu, the business dates the marts cover and the last day each source landed."
    ),
    columns=(
        TableColumn("source", "varchar", "A landing source (raw table name).", nullable=False),
        TableColumn(
            "last_file_date",
            "date",
            "Date of the source's latest loaded file (NULL: a whole-file source, or none yet).",
        ),
        TableColumn("last_loaded_at", "timestamptz", "When the source's latest file was loaded."),
        TableColumn("first_date", "date", "The marts' first business date (the calendar's)."),
        TableColumn("last_date", "date", "The marts' last business date (the calendar's)."),
        TableColumn("business_timezone", "varchar", "Time zone of the business dates."),
        TableColumn("published_at", "timestamptz", "When this file was published.", False),
        TableColumn("siyu_version", "varchar", "The Siyu release that built it.", False),
        TableColumn("storage_version", "varchar", "DuckDB storage version of the file.", False),
    ),
)
# the calendar every daily mart spans
CALENDAR_TABLE = "work.intermediate.int_calendar_dates"


def _write_publish_info(
    con: duckdb.DuckDBPyConnection, storage_version: str, business_timezone: str
) -> int:
    con.execute("use serving")
    con.execute(PUBLISH_INFO.ddl())
    for statement in PUBLISH_INFO.comment_statements():
        con.execute(statement)
    con.execute("use memory")
    sources = [schema.name for schema in SOURCES]
    con.execute(
        f"""
        insert into serving.{PUBLISH_INFO.qualified_name}
        with calendar as (
            select min(date_day) as first_date, max(date_day) as last_date
            from {CALENDAR_TABLE}
        ),
        landed as (
            select
                source,
                max(file_date) as last_file_date,
                max(loaded_at) as last_loaded_at
            from work.raw.landed_files
            where status = 'loaded'
            group by source
        )
        select
            sources.source,
            landed.last_file_date,
            landed.last_loaded_at,
            calendar.first_date,
            calendar.last_date,
            ?,
            now(),
            ?,
            ?
        from unnest(?::varchar[]) as sources(source)
        cross join calendar
        left join landed on sources.source = landed.source
        order by sources.source
        """,
        [business_timezone, siyu_version(), storage_version, sources],
    )
    return len(sources)


def siyu_version() -> str:
    try:
        return version("siyu")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def remove_abandoned_files(serving: Path) -> list[Path]:
    """Temporary files (and their WALs) of publishes that were killed before the swap."""
    removed = []
    for leftover in serving.parent.glob(f".{serving.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)
        removed.append(leftover)
    return removed


def publish_serving_file(
    work_db_path: str | Path,
    serving_path: str | Path,
    storage_version: str,
    schemas: tuple[str, ...] = PUBLISHED_SCHEMAS,
    duckdb_config: dict[str, str | bool | int | float | list[str]] | None = None,
    business_timezone: str = "Asia/Shanghai",
) -> PublishReport:
    """Copy `schemas` of the working database into a new file and swap it in for the serving
    file. Only marts and (masked) quarantine tables are published: no raw or staging data."""
    serving = Path(serving_path)
    serving.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_files(serving)
    temporary = serving.with_name(f".{serving.name}.{uuid.uuid4().hex}.tmp")
    copied: dict[str, int] = {}
    try:
        con = duckdb.connect(":memory:", config=duckdb_config or {})
        try:
            con.execute("attach ? as work (read_only)", [str(work_db_path)])
            con.execute(
                f"attach ? as serving (storage_version '{storage_version}')", [str(temporary)]
            )
            for schema in schemas:
                copied |= _copy_schema(con, schema)
            copied[PUBLISH_INFO.qualified_name] = _write_publish_info(
                con, storage_version, business_timezone
            )
            con.execute("checkpoint serving")
            con.execute("detach serving")
            con.execute("detach work")
        finally:
            con.close()
        stale_wal = Path(f"{temporary}.wal")
        if stale_wal.exists():
            raise RuntimeError(f"the new serving file left a WAL behind: {stale_wal}")
        Path(f"{serving}.wal").unlink(missing_ok=True)
        os.replace(temporary, serving)
    finally:
        temporary.unlink(missing_ok=True)
        Path(f"{temporary}.wal").unlink(missing_ok=True)
    return PublishReport(path=str(serving), storage_version=storage_version, tables=copied)
