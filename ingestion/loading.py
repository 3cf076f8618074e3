"""Load landed files into the `raw` schema of the working DuckDB, file by file.

A file's rows replace whatever that file loaded before, so loads are idempotent; a file whose
content (and parsing settings) did not change since its last load is skipped, so a daily run
costs in proportion to what landed, not to the history. Rows that break a rule go to
`quarantine.rejected_rows`, unusable files to `quarantine.rejected_files`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from ingestion.content_hash import content_digest
from ingestion.duplicates import differs_from_first_occurrence, occurrence_window
from ingestion.parsing import (
    RAW_RECORD,
    REASON,
    ROW_NUMBER,
    BadFileError,
    ParsedBatch,
    file_date_from_name,
    parse_file_bytes,
    raw_record_json,
)
from ingestion.queries import fetch_row
from ingestion.schemas import SOURCES, SourceSchema
from ingestion.working_database import ensure_working_schema, note_changed_rows

# Bump when parsing rules change: every file is then re-parsed on the next run.
PARSER_VERSION = "1"


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
    """Identifies the content and the settings it was parsed with (never the salt itself)."""
    return content_digest(
        data,
        f"|{business_timezone}|{PARSER_VERSION}|".encode(),
        bytes.fromhex(content_digest(pii_salt.encode())),
    )


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


def _duplicate_reason(schema: SourceSchema, where: str) -> str:
    return (
        f"conflicting duplicate of {', '.join(schema.unique_key)}: an earlier {where} has the same "
        "key with other values (the first one is kept)"
    )


def _settle_duplicates(
    con: duckdb.DuckDBPyConnection, landed: LandedFile, landed_text: pl.DataFrame
) -> int:
    """Apply "first occurrence wins" (`ingestion.duplicates`) to the keys this file's rows have:
    its rows that conflict with an earlier row (of this file or, for keys unique across files,
    an earlier file) are quarantined, and so are rows of later files that conflict with this one
    (when an earlier day is loaded after a later one). Returns how many rows of this file were
    quarantined."""
    schema = landed.source
    if not schema.unique_key:
        return 0
    table, keys = schema.raw_table, ", ".join(schema.unique_key)
    this_file_only = "where r._file = $file" if schema.unique_scope == "file" else ""
    con.execute(
        f"""
        create or replace temp table duplicate_losers as
        select _file as file, _file_date as file_date, _row_number, winner_file
        from (
            select
                r._file,
                r._file_date,
                r._row_number,
                {differs_from_first_occurrence(schema)} as is_conflicting,
                first_value(r._file) {occurrence_window(schema)} as winner_file
            from {table} as r
            semi join (select distinct {keys} from {table} where _file = $file) as touched
                using ({keys})
            {this_file_only}
        )
        where is_conflicting
        """,
        {"file": landed.relative_path},
    )
    # a conflict within the file keeps the record as it landed, like the file's other rejects
    within = pl.DataFrame(
        con.execute(
            "select _row_number from duplicate_losers where file = $file and winner_file = $file",
            {"file": landed.relative_path},
        ).fetchall(),
        schema={ROW_NUMBER: pl.Int64},
        orient="row",
    )
    if not within.is_empty():
        _insert_rejected_rows(
            con,
            landed,
            landed_text.join(within, on=ROW_NUMBER).select(
                pl.col(ROW_NUMBER),
                pl.lit(_duplicate_reason(schema, "row")).alias(REASON),
                raw_record_json(list(schema.column_names), schema).alias(RAW_RECORD),
            ),
        )
    columns = ", ".join(f"'{c.raw_name}', r.{c.raw_name}" for c in schema.columns)
    con.execute(
        f"""
        insert into quarantine.rejected_rows
        select $source, r._file, r._file_date, r._row_number, $reason,
            cast(json_object({columns}) as varchar)
        from {table} as r
        inner join duplicate_losers as l
            on r._file = l.file and r._row_number = l._row_number
        where not (l.file = $file and l.winner_file = $file)
        """,
        {
            "source": schema.name,
            "reason": _duplicate_reason(schema, "file"),
            "file": landed.relative_path,
        },
    )
    note_changed_rows(
        con,
        schema,
        "exists (select 1 from duplicate_losers as l "
        "where l.file = changed._file and l._row_number = changed._row_number)",
        [],
    )
    con.execute(
        f"""
        delete from {table} as r
        where exists (
            select 1 from duplicate_losers as l
            where l.file = r._file and l._row_number = r._row_number
        )
        """
    )
    losers_by_file = con.execute(
        "select file, count(*) from duplicate_losers group by file"
    ).fetchall()
    con.execute("drop table duplicate_losers")
    for file, quarantined in losers_by_file:
        con.execute(
            "update raw.landed_files set rows_loaded = rows_loaded - ?, "
            "rows_rejected = rows_rejected + ? where source = ? and file = ?",
            [quarantined, quarantined, schema.name, file],
        )
    return sum(n for file, n in losers_by_file if file == landed.relative_path)


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
        conflicts = _settle_duplicates(con, landed, batch.landed)
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
