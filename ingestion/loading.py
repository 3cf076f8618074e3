"""Load landed files into the `raw` schema of the working DuckDB, file by file.

A file's rows replace whatever that file loaded before, so loads are idempotent; a file whose
content (and parsing settings) did not change since its last load is skipped, so a daily run
costs in proportion to what landed, not to the history. Rows that break a rule go to
`quarantine.rejected_rows`, unusable files to `quarantine.rejected_files`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from ingestion.parsing import (
    RAW_RECORD,
    REASON,
    ROW_NUMBER,
    BadFileError,
    ParsedBatch,
    file_date_from_name,
    parse_file_bytes,
)
from ingestion.queries import fetch_row, fetch_value
from ingestion.schemas import SOURCES, SourceSchema

# Bump when parsing rules change: every file is then re-parsed on the next run.
PARSER_VERSION = "1"

LANDED_FILES_DDL = """
create table if not exists raw.landed_files (
    source varchar not null,
    file varchar not null,
    file_date date,
    fingerprint varchar not null,
    encoding varchar,
    status varchar not null,
    reason varchar,
    rows_landed bigint not null,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    loaded_at timestamptz not null,
    primary key (source, file)
)
"""

# The change log: what the raw tables gained or lost since the last complete dbt build. The
# incremental models recompute exactly the entities and business dates named here; the dbt
# asset empties it once a build of every model has succeeded (a failed build keeps it).
PENDING_CHANGES_DDL = """
create table if not exists raw.pending_changes (
    source varchar not null,
    file_date date,
    entity_key varchar,
    event_at timestamptz,
    noted_at timestamptz not null
)
"""

# Complete dbt builds (written by orchestration/transform/build_state.py). Until one is
# recorded, the next build is a full refresh, so the loader need not keep the change log.
DBT_BUILDS_DDL = """
create table if not exists raw.dbt_builds (
    project_fingerprint varchar not null,
    started_at timestamptz not null,
    full_refresh boolean not null,
    changes_applied bigint not null
)
"""

REJECTED_ROWS_DDL = """
create table if not exists quarantine.rejected_rows (
    source varchar not null,
    file varchar not null,
    file_date date,
    row_number bigint not null,
    reason varchar not null,
    raw_record varchar not null
)
"""

REJECTED_FILES_DDL = """
create table if not exists quarantine.rejected_files (
    source varchar not null,
    file varchar not null,
    file_date date,
    reason varchar not null
)
"""


@dataclass(frozen=True)
class LandedFile:
    source: SourceSchema
    path: Path
    relative_path: str  # as recorded in lineage: relative to the landing folder
    file_date: date | None


@dataclass
class SourceLoadReport:
    """What one load of one source did, for asset metadata and the run summary."""

    source: str
    files_seen: int = 0
    files_loaded: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    rows_landed: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rejected_files: list[tuple[str, str]] = field(default_factory=list)
    loaded_files: list[str] = field(default_factory=list)  # parsed in this run (not unchanged)


def raw_table_ddl(schema: SourceSchema) -> str:
    columns = ",\n    ".join(f"{name} {kind}" for name, kind in schema.raw_columns.items())
    return f"create table if not exists {schema.raw_table} (\n    {columns}\n)"


def ensure_working_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw and quarantine schemas and tables when they do not exist yet."""
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists quarantine")
    for schema in SOURCES:
        con.execute(raw_table_ddl(schema))
    con.execute(LANDED_FILES_DDL)
    con.execute(PENDING_CHANGES_DDL)
    con.execute(DBT_BUILDS_DDL)
    con.execute(REJECTED_ROWS_DDL)
    con.execute(REJECTED_FILES_DDL)


def discover_files(
    landing_dir: Path, schema: SourceSchema, start: date | None = None, end: date | None = None
) -> list[LandedFile]:
    """The source's files in the landing folder, oldest first; dated files filtered to
    [start, end]. A file whose name is not a date is kept (with no date) so it gets rejected."""
    files: list[LandedFile] = []
    for path in sorted(landing_dir.glob(schema.path_glob)):
        if not path.is_file():
            continue
        file_date: date | None = None
        if schema.dated:
            try:
                file_date = file_date_from_name(path.stem)
            except BadFileError:
                file_date = None
            if file_date is not None and (
                (start is not None and file_date < start) or (end is not None and file_date > end)
            ):
                continue
        relative = path.relative_to(landing_dir).as_posix()
        files.append(LandedFile(schema, path, relative, file_date))
    return sorted(files, key=lambda f: (f.file_date or date.min, f.relative_path))


def discover_landing(landing_dir: Path) -> list[LandedFile]:
    """Every source's files in the landing folder (one walk for sensors and the CLI)."""
    return [landed for schema in SOURCES for landed in discover_files(landing_dir, schema)]


def landed_days(files: Iterable[LandedFile]) -> list[date]:
    """The business days that have a daily file, oldest first."""
    return sorted({landed.file_date for landed in files if landed.file_date is not None})


def fingerprint(data: bytes, business_timezone: str, pii_salt: str) -> str:
    """Identifies the content and the settings it was parsed with."""
    digest = hashlib.sha256(data)
    digest.update(f"|{business_timezone}|{PARSER_VERSION}|".encode())
    digest.update(hashlib.sha256(pii_salt.encode()).digest())
    return digest.hexdigest()


def incremental_builds_follow(con: duckdb.DuckDBPyConnection) -> bool:
    """True once a complete dbt build is recorded: later builds are incremental and read the
    change log. Before, the next build is a full refresh (an initial load of months of files
    then skips the log, which would cost a scan of the raw table per file)."""
    return bool(fetch_value(con, "select exists (select 1 from raw.dbt_builds)"))


def note_changed_rows(
    con: duckdb.DuckDBPyConnection,
    schema: SourceSchema,
    rows_where: str,
    parameters: list[object],
) -> None:
    """Write to the change log what rows of `schema.raw_table` matching `rows_where` (about to
    be deleted, or just inserted) may change downstream: their file dates, their entities, and
    the instants of every row of those entities (an order's old current state may sit in
    another file: its paid and refund dates must be recomputed too)."""
    if not incremental_builds_follow(con):
        return
    table = schema.raw_table
    con.execute(
        f"insert into raw.pending_changes select distinct ?, _file_date, null, null, now() "
        f"from {table} as changed where {rows_where}",
        [schema.name, *parameters],
    )
    if schema.change_key is None:
        return
    key = schema.change_key
    con.execute(
        f"create or replace temp table changed_keys as select distinct {key} as entity_key "
        f"from {table} as changed where {rows_where}",
        parameters,
    )
    con.execute(
        "insert into raw.pending_changes select ?, null, entity_key, null, now() from changed_keys",
        [schema.name],
    )
    if schema.change_instants:
        instants = ", ".join(schema.change_instants)
        con.execute(
            f"""
            insert into raw.pending_changes
            select distinct ?, null, null, event_at, now()
            from (
                select unnest([{instants}]) as event_at
                from {table}
                where {key} in (select entity_key from changed_keys)
            )
            where event_at is not null
            """,
            [schema.name],
        )
    con.execute("drop table changed_keys")


def forget_pending_changes(con: duckdb.DuckDBPyConnection, noted_before: datetime) -> int:
    """Empty the change log up to a complete, successful dbt build that began at
    `noted_before`. Returns how many entries were forgotten."""
    ensure_working_schema(con)
    forgotten = fetch_value(
        con, "delete from raw.pending_changes where noted_at < ?", [noted_before]
    )
    return int(forgotten or 0)


def _delete_file_rows(con: duckdb.DuckDBPyConnection, schema: SourceSchema, file: str) -> None:
    note_changed_rows(con, schema, "changed._file = ?", [file])
    con.execute(f"delete from {schema.raw_table} where _file = ?", [file])
    con.execute(
        "delete from quarantine.rejected_rows where source = ? and file = ?", [schema.name, file]
    )
    con.execute(
        "delete from quarantine.rejected_files where source = ? and file = ?", [schema.name, file]
    )


def _record_manifest(
    con: duckdb.DuckDBPyConnection,
    landed: LandedFile,
    file_fingerprint: str,
    encoding: str | None,
    status: str,
    reason: str | None,
    rows: tuple[int, int, int],
) -> None:
    con.execute(
        "delete from raw.landed_files where source = ? and file = ?",
        [landed.source.name, landed.relative_path],
    )
    con.execute(
        "insert into raw.landed_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [
            landed.source.name,
            landed.relative_path,
            landed.file_date,
            file_fingerprint,
            encoding,
            status,
            reason,
            *rows,
        ],
    )


def _insert_rows(
    con: duckdb.DuckDBPyConnection,
    landed: LandedFile,
    good: pl.DataFrame,
    pii_salt: str,
) -> None:
    schema = landed.source
    batch = good.with_columns(
        pl.lit(landed.relative_path).alias("_file"),
        pl.lit(landed.file_date, dtype=pl.Date).alias("_file_date"),
    )
    con.register("landing_batch", batch.to_arrow())
    try:
        selects = []
        for column in schema.columns:
            if column.personal:
                selects.append(
                    f"case when $salt = '' or {column.name} is null then null "
                    f"else sha256($salt || {column.name}) end as {column.raw_name}"
                )
            else:
                selects.append(f"cast({column.name} as {column.duckdb_type}) as {column.name}")
        selects += ["_file", "_file_date", f"{ROW_NUMBER}"]
        con.execute(
            f"insert into {schema.raw_table} by name select {', '.join(selects)} "
            "from landing_batch",
            {"salt": pii_salt} if any(c.personal for c in schema.columns) else None,
        )
    finally:
        con.unregister("landing_batch")


def _insert_rejected_rows(
    con: duckdb.DuckDBPyConnection, landed: LandedFile, rejected: pl.DataFrame
) -> None:
    if rejected.is_empty():
        return
    batch = rejected.select(
        pl.lit(landed.source.name).alias("source"),
        pl.lit(landed.relative_path).alias("file"),
        pl.lit(landed.file_date, dtype=pl.Date).alias("file_date"),
        pl.col(ROW_NUMBER).alias("row_number"),
        pl.col(REASON).alias("reason"),
        pl.col(RAW_RECORD).alias("raw_record"),
    )
    con.register("rejected_batch", batch.to_arrow())
    try:
        con.execute("insert into quarantine.rejected_rows by name select * from rejected_batch")
    finally:
        con.unregister("rejected_batch")


def _settle_cross_file_conflicts(con: duckdb.DuckDBPyConnection, landed: LandedFile) -> int:
    """Apply "first occurrence wins" to keys unique across files: rows of this file whose key an
    earlier file already has with other values are quarantined, and so are rows of later files
    that conflict with this one (when an earlier day is loaded after a later one).
    Returns how many rows of this file were quarantined."""
    schema = landed.source
    if not schema.unique_key or schema.unique_scope != "all":
        return 0
    key = " and ".join(f"this.{name} = other.{name}" for name in schema.unique_key)
    differs = " or ".join(
        f"this.{column.raw_name} is distinct from other.{column.raw_name}"
        for column in schema.columns
    )
    this_first = (
        "(this._file_date < other._file_date or "
        "(this._file_date = other._file_date and this._file < other._file))"
    )
    reason = (
        f"conflicting duplicate of {', '.join(schema.unique_key)}: an earlier file has the same "
        "key with other values (the first one is kept)"
    )
    losers = f"""
        select other._file as file, other._file_date as file_date, other._row_number
        from {schema.raw_table} as this
        inner join {schema.raw_table} as other on {key}
        where this._file = $file and other._file <> $file and ({differs}) and {this_first}
        union all
        select this._file, this._file_date, this._row_number
        from {schema.raw_table} as this
        inner join {schema.raw_table} as other on {key}
        where this._file = $file and other._file <> $file and ({differs}) and not {this_first}
    """
    con.execute(
        f"create or replace temp table conflict_losers as {losers}", {"file": landed.relative_path}
    )
    columns = ", ".join(f"'{c.raw_name}', r.{c.raw_name}" for c in schema.columns)
    con.execute(
        f"""
        insert into quarantine.rejected_rows
        select distinct $source, r._file, r._file_date, r._row_number, $reason,
            cast(json_object({columns}) as varchar)
        from {schema.raw_table} as r
        inner join conflict_losers as l
            on r._file = l.file and r._row_number = l._row_number
        """,
        {"source": schema.name, "reason": reason},
    )
    note_changed_rows(
        con,
        schema,
        "exists (select 1 from conflict_losers as l "
        "where l.file = changed._file and l._row_number = changed._row_number)",
        [],
    )
    con.execute(
        f"""
        delete from {schema.raw_table} as r
        where exists (
            select 1 from conflict_losers as l
            where l.file = r._file and l._row_number = r._row_number
        )
        """
    )
    count = fetch_value(
        con,
        "select count(distinct _row_number) from conflict_losers where file = ?",
        [landed.relative_path],
    )
    later = con.execute(
        "select file, count(*) from conflict_losers where file <> ? group by file",
        [landed.relative_path],
    ).fetchall()
    for other_file, quarantined in later:
        con.execute(
            "update raw.landed_files set rows_loaded = rows_loaded - ?, "
            "rows_rejected = rows_rejected + ? where source = ? and file = ?",
            [quarantined, quarantined, schema.name, other_file],
        )
    con.execute("drop table conflict_losers")
    return int(count or 0)


def load_file(
    con: duckdb.DuckDBPyConnection,
    landed: LandedFile,
    business_timezone: str,
    pii_salt: str,
    force: bool = False,
) -> tuple[str, int, int, int, str | None]:
    """Load one file. Returns (outcome, rows landed, loaded, rejected, reason) where outcome is
    'loaded', 'unchanged' or 'rejected'."""
    data = landed.path.read_bytes()
    file_fingerprint = fingerprint(data, business_timezone, pii_salt)
    if not force:
        previous = fetch_row(
            con,
            "select fingerprint, rows_landed, rows_loaded, rows_rejected, status, reason "
            "from raw.landed_files where source = ? and file = ?",
            [landed.source.name, landed.relative_path],
        )
        if previous is not None and previous[0] == file_fingerprint:
            return "unchanged", previous[1], previous[2], previous[3], previous[5]

    con.execute("begin transaction")
    try:
        _delete_file_rows(con, landed.source, landed.relative_path)
        try:
            if landed.source.dated and landed.file_date is None:
                file_date_from_name(landed.path.stem)  # raises with the reason
            batch: ParsedBatch = parse_file_bytes(data, landed.source, business_timezone)
        except BadFileError as error:
            reason = str(error)
            con.execute(
                "insert into quarantine.rejected_files values (?, ?, ?, ?)",
                [landed.source.name, landed.relative_path, landed.file_date, reason],
            )
            _record_manifest(con, landed, file_fingerprint, None, "rejected", reason, (0, 0, 0))
            con.execute("commit")
            return "rejected", 0, 0, 0, reason
        _insert_rows(con, landed, batch.good, pii_salt)
        note_changed_rows(con, landed.source, "changed._file = ?", [landed.relative_path])
        _insert_rejected_rows(con, landed, batch.rejected)
        rejected = batch.rejected.height
        _record_manifest(
            con,
            landed,
            file_fingerprint,
            batch.encoding,
            "loaded",
            None,
            (batch.rows_landed, batch.good.height, rejected),
        )
        conflicts = _settle_cross_file_conflicts(con, landed)
        if conflicts:
            con.execute(
                "update raw.landed_files set rows_loaded = rows_loaded - ?, "
                "rows_rejected = rows_rejected + ? where source = ? and file = ?",
                [conflicts, conflicts, landed.source.name, landed.relative_path],
            )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return "loaded", batch.rows_landed, batch.good.height - conflicts, rejected + conflicts, None


def remove_vanished_files(
    con: duckdb.DuckDBPyConnection,
    schema: SourceSchema,
    present: Iterable[LandedFile],
    start: date | None,
    end: date | None,
) -> int:
    """Forget files of this source (within [start, end]) that are no longer in the landing
    folder, so a wrongly landed file that was taken away leaves no rows behind."""
    present_files = {landed.relative_path for landed in present}
    known = con.execute(
        "select file, file_date from raw.landed_files where source = ?", [schema.name]
    ).fetchall()
    removed = 0
    for file, file_date in known:
        in_scope = file_date is None or (
            (start is None or file_date >= start) and (end is None or file_date <= end)
        )
        if in_scope and file not in present_files:
            _delete_file_rows(con, schema, file)
            con.execute(
                "delete from raw.landed_files where source = ? and file = ?", [schema.name, file]
            )
            removed += 1
    return removed


def load_source(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    schema: SourceSchema,
    business_timezone: str,
    pii_salt: str,
    start: date | None = None,
    end: date | None = None,
    force: bool = False,
) -> SourceLoadReport:
    """Bring the raw table of one source in line with its files in [start, end]."""
    ensure_working_schema(con)
    report = SourceLoadReport(source=schema.name)
    files = discover_files(landing_dir, schema, start, end)
    report.files_removed = remove_vanished_files(con, schema, files, start, end)
    for landed in files:
        report.files_seen += 1
        outcome, landed_rows, loaded, rejected, reason = load_file(
            con, landed, business_timezone, pii_salt, force
        )
        if outcome == "unchanged":
            report.files_unchanged += 1
        else:
            report.files_loaded += 1
            report.loaded_files.append(landed.relative_path)
        if reason is not None:
            report.rejected_files.append((landed.relative_path, reason))
        report.rows_landed += landed_rows
        report.rows_loaded += loaded
        report.rows_rejected += rejected
    return report
