"""What the working database remembers of dbt builds: the change log's bookkeeping and the dbt
project version the incremental tables were built with.

Incremental tables hold results computed by the models' SQL at the time. When that SQL changes
(a new Siyu release, an edited model or macro), the next build is a full refresh, so no table
mixes the old logic's rows with the new one's.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path

import duckdb

from ingestion.loading import ensure_working_schema, forget_pending_changes
from ingestion.queries import fetch_value

# what decides the contents of the dbt tables (not docs, not tests)
PROJECT_INPUTS = ("dbt_project.yml", "models", "macros", "seeds")


def project_fingerprint(project_dir: Path) -> str:
    """A digest of the SQL, macros, seeds and configuration of the dbt project."""
    digest = hashlib.sha256()
    for name in PROJECT_INPUTS:
        path = project_dir / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix in (".sql", ".yml", ".yaml", ".csv"):
                digest.update(file.relative_to(project_dir).as_posix().encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()


def last_complete_build_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    ensure_working_schema(con)
    return fetch_value(
        con, "select project_fingerprint from raw.dbt_builds order by started_at desc limit 1"
    )


def needs_full_refresh(con: duckdb.DuckDBPyConnection, fingerprint: str) -> bool:
    """True when no complete build is recorded, or the last one used other model logic."""
    return last_complete_build_fingerprint(con) != fingerprint


REFRESH_WINDOW_SOURCE = "refresh_window"


def note_refresh_window(con: duckdb.DuckDBPyConnection, start: date, end: date) -> None:
    """Log the run's partition window: the daily aggregates recompute its dates as well (a
    re-run of a day recomputes that day). It leaves the log with the rest of it."""
    ensure_working_schema(con)
    con.execute(
        "insert into raw.pending_changes "
        "select ?, cast(day as date), null, null, now() from generate_series(?, ?, interval 1 day) "
        "as window_days(day)",
        [REFRESH_WINDOW_SOURCE, start, end],
    )


def record_complete_build(
    con: duckdb.DuckDBPyConnection, fingerprint: str, started_at: datetime, full_refresh: bool
) -> int:
    """After a successful build of every model: the change log up to its start is applied.
    Returns how many change-log entries that was."""
    ensure_working_schema(con)
    applied = forget_pending_changes(con, started_at)
    con.execute(
        "insert into raw.dbt_builds values (?, ?, ?, ?)",
        [fingerprint, started_at, full_refresh, applied],
    )
    return applied
