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
from pathlib import Path

import duckdb

from ingestion.queries import fetch_value

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
    return copied


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
