"""Load landed files into the `raw` schema of the working DuckDB, file by file.

A file's rows replace whatever that file loaded before, so loads are idempotent; a file whose
content (and parsing settings) did not change since its last load is skipped, so a daily run
costs in proportion to what landed, not to the history. Rows that break a rule go to
`quarantine.rejected_rows`, unusable files to `quarantine.rejected_files`.

The work is DuckDB's: a file is read by DuckDB's CSV reader, parsed and checked by the SQL of
`ingestion.parsing`, and inserted with set-based statements; conflicting duplicates are settled
once per load, for every key the new files touch. One load of a source is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from ingestion.content_hash import content_digest
from ingestion.duplicates import (
    differs_from_first_occurrence,
    key_columns,
    occurrence_window,
)
from ingestion.parsing import (
    CHECKED,
    REASON,
    ROW_NUMBER,
    BadFileError,
    FileToStage,
    drop_staged,
    file_date_from_name,
    raw_record,
    stage_files,
    typed,
)
from ingestion.queries import fetch_value, sql_literal
from ingestion.schemas import SOURCES, SourceSchema
from ingestion.working_database import ensure_working_schema, note_changed_rows

# Bump when parsing rules change: every file is then re-parsed on the next run.
PARSER_VERSION = "2"


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


def file_fingerprints(files: list[LandedFile], business_timezone: str, pii_salt: str) -> list[str]:
    """The fingerprints of files, in their order, hashed two at a time: SHA-256 lets go of
    Python's lock while it hashes, so a first load's gigabyte takes half the time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(
            pool.map(
                lambda landed: fingerprint(landed.path.read_bytes(), business_timezone, pii_salt),
                files,
            )
        )


FILES_THIS_RUN = "files_this_run"  # temporary: the files (re)loaded by this load of a source
CHECKED_ROWS = CHECKED  # temporary view: the checked rows of those files, with lineage


@dataclass(frozen=True)
class _FileToLoad:
    landed: LandedFile
    fingerprint: str
    previously_loaded: bool


@dataclass
class _FileOutcome:
    status: str  # 'loaded' or 'rejected'
    rows_landed: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    reason: str | None = None


@contextmanager
def _business_time_zone(con: duckdb.DuckDBPyConnection, business_timezone: str) -> Iterator[None]:
    """Local times without an offset are read in the business time zone (the session's)."""
    previous = str(fetch_value(con, "select current_setting('TimeZone')"))
    con.execute(f"set TimeZone = {sql_literal(business_timezone)}")
    try:
        yield
    finally:
        con.execute(f"set TimeZone = {sql_literal(previous)}")


def _in_this_run(alias: str = "changed") -> str:
    return f"{alias}._file in (select file from {FILES_THIS_RUN})"


def _forget_files(con: duckdb.DuckDBPyConnection, schema: SourceSchema, files: list[str]) -> None:
    """Forget what these files of the source loaded: raw rows, quarantined rows and files."""
    if not files:
        return
    con.execute("create or replace temp table files_to_forget (file varchar)")
    con.executemany("insert into files_to_forget values (?)", [[file] for file in files])
    rows_where = "changed._file in (select file from files_to_forget)"
    note_changed_rows(con, schema, rows_where, [])
    con.execute(f"delete from {schema.raw_table} as changed where {rows_where}")
    for table in ("quarantine.rejected_rows", "quarantine.rejected_files"):
        con.execute(
            f"delete from {table} where source = ? and file in (select file from files_to_forget)",
            [schema.name],
        )
    con.execute("drop table files_to_forget")


def _record_manifest(
    con: duckdb.DuckDBPyConnection,
    landed: LandedFile,
    file_fingerprint: str,
    encoding: str | None,
    outcome: _FileOutcome,
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
            outcome.status,
            outcome.reason,
            outcome.rows_landed,
            outcome.rows_loaded,
            outcome.rows_rejected,
        ],
    )


def _stage_and_check_files(
    con: duckdb.DuckDBPyConnection, schema: SourceSchema, to_load: list[_FileToLoad]
) -> dict[str, tuple[str | None, _FileOutcome]]:
    """Stage and check the files into the temporary view `checked_rows` (their rows with
    lineage). Runs before the load's transaction: a file DuckDB cannot read is rejected
    without aborting the load. Returns each file's encoding and outcome."""
    result: dict[str, tuple[str | None, _FileOutcome]] = {}
    to_stage: list[FileToStage] = []
    for f in to_load:
        landed = f.landed
        if landed.source.dated and landed.file_date is None:
            try:
                file_date_from_name(landed.path.stem)
            except BadFileError as error:
                result[landed.relative_path] = (None, _FileOutcome("rejected", reason=str(error)))
                continue
        to_stage.append(FileToStage(landed.relative_path, landed.path, landed.file_date))
    for file, encoding in stage_files(con, to_stage, schema).items():
        if isinstance(encoding, BadFileError):
            result[file] = (None, _FileOutcome("rejected", reason=str(encoding)))
        else:
            result[file] = (encoding, _FileOutcome("loaded"))
    return result


def _count_checked_rows(con: duckdb.DuckDBPyConnection, outcomes: dict[str, _FileOutcome]) -> None:
    """The rows each staged file landed and how many of them are good, in one scan."""
    counts = con.execute(
        f"select _file, count(*), count(*) filter (where {REASON} is null) "
        f"from {CHECKED_ROWS} group by _file"
    ).fetchall()
    for file, landed_rows, good_rows in counts:
        outcome = outcomes[str(file)]
        outcome.rows_landed, outcome.rows_loaded = int(landed_rows), int(good_rows)
        outcome.rows_rejected = int(landed_rows) - int(good_rows)


def _insert_checked_rows(
    con: duckdb.DuckDBPyConnection, schema: SourceSchema, pii_salt: str
) -> None:
    """The good rows of this load's files into the raw table (personal data hashed with the
    salt, dropped without one), their rejected rows into the quarantine, and the rows that may
    lose to an earlier row of their own file, with the record as it landed."""
    values = ", ".join(
        (
            f"case when $salt = '' or {typed(column.name)} is null then null "
            f"else sha256($salt || {typed(column.name)}) end as {column.raw_name}"
        )
        if column.personal
        else f"{typed(column.name)} as {column.name}"
        for column in schema.columns
    )
    personal = {"salt": pii_salt} if any(column.personal for column in schema.columns) else {}
    # in the order the files were staged (oldest first), as DuckDB keeps insertion order; no
    # sort: nothing reads the raw tables in their physical order (every rule orders by file
    # date, file and row number), and sorting a long history costs about a third of the insert
    con.execute(
        f"insert into {schema.raw_table} by name "
        f"select {values}, _file, _file_date, {ROW_NUMBER} "
        f"from {CHECKED_ROWS} where {REASON} is null",
        personal,
    )
    con.execute(
        "insert into quarantine.rejected_rows by name "
        "select $source as source, _file as file, _file_date as file_date, "
        f"{ROW_NUMBER} as row_number, {REASON} as reason, {raw_record(schema)} as raw_record "
        f"from {CHECKED_ROWS} where {REASON} is not null",
        {"source": schema.name},
    )


def _record_outcome(
    con: duckdb.DuckDBPyConnection,
    to_load: _FileToLoad,
    encoding: str | None,
    outcome: _FileOutcome,
) -> None:
    """The manifest row of a file of this load (inside the load's transaction)."""
    landed = to_load.landed
    if outcome.status == "rejected":
        con.execute(
            "insert into quarantine.rejected_files values (?, ?, ?, ?)",
            [landed.source.name, landed.relative_path, landed.file_date, outcome.reason],
        )
    _record_manifest(con, landed, to_load.fingerprint, encoding, outcome)
    con.execute(f"insert into {FILES_THIS_RUN} values (?)", [landed.relative_path])


def _duplicate_reason(schema: SourceSchema, where: str) -> str:
    return (
        f"conflicting duplicate of {', '.join(schema.unique_key)}: an earlier {where} has the same "
        "key with other values (the first one is kept)"
    )


def _repeated_keys_sql(schema: SourceSchema, only_this_run: bool) -> str:
    """SQL: the hashes of the keys that occur more than once in the raw table — of the keys of
    this run's rows when `only_this_run`. A hash of several columns is one integer, grouped
    far faster than the text of the keys; a collision only adds a key that the window then
    finds unrepeated, so the result is exact. A key with a NULL part is never a duplicate."""
    table, keys = schema.raw_table, ", ".join(key_columns(schema))
    present = " and ".join(f"{column} is not null" for column in key_columns(schema))
    touched = (
        # (not distinct: the semi join's hash table takes repeats, and a first load's
        # millions of keys are not aggregated twice)
        f"and hash({keys}) in (select hash({keys}) from {table} as changed where {_in_this_run()})"
        if only_this_run
        else ""
    )
    return (
        f"select hash({keys}) as key_hash from {table} where {present} {touched} "
        "group by key_hash having count(*) > 1"
    )


def _settle_duplicates(
    con: duckdb.DuckDBPyConnection, schema: SourceSchema, rows_this_run: int
) -> dict[str, int]:
    """Apply "first occurrence wins" (`ingestion.duplicates`) to every key the files of this run
    have: rows that conflict with an earlier row (of their file or, for keys unique across
    files, an earlier file) are quarantined — rows of this run's files, and rows of later files
    when an earlier day is loaded after a later one. `rows_this_run` is how many rows this run
    inserted: when they are all of the table (a first load), no key needs to be looked up.
    Returns how many rows of each file lost."""
    if not schema.unique_key:
        return {}
    table = schema.raw_table
    these_files_only = f"and {_in_this_run('r')}" if schema.unique_scope == "file" else ""
    other_rows = int(fetch_value(con, f"select count(*) from {table}") or 0) > rows_this_run
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
            -- only keys that occur more than once can conflict: the window below then runs
            -- over a few rows, not over every row the run touched
            where hash({", ".join(f"r.{column}" for column in key_columns(schema))}) in (
                {_repeated_keys_sql(schema, other_rows)}
            )
            {these_files_only}
        )
        where is_conflicting
        """
    )
    stored = ", ".join(f"'{c.raw_name}', r.{c.raw_name}" for c in schema.columns)
    # a loser of its own file is one of this run's files: its text is still in checked_rows
    landed_record = f"case when w._file is not null then {raw_record(schema, 'w.')} end"
    con.execute(
        f"""
        insert into quarantine.rejected_rows
        select
            $source,
            r._file,
            r._file_date,
            r._row_number,
            case when l.winner_file = l.file then $within_file else $across_files end,
            -- a conflict within a file keeps the record as it landed, like its other rejects
            coalesce({landed_record}, cast(json_object({stored}) as varchar))
        from {table} as r
        inner join duplicate_losers as l
            on r._file = l.file and r._row_number = l._row_number
        left join {CHECKED_ROWS} as w
            on l.winner_file = l.file and w._file = l.file and w.{ROW_NUMBER} = l._row_number
        """,
        {
            "source": schema.name,
            "within_file": _duplicate_reason(schema, "row"),
            "across_files": _duplicate_reason(schema, "file"),
        },
    )
    losers = (
        "exists (select 1 from duplicate_losers as l "
        "where l.file = changed._file and l._row_number = changed._row_number)"
    )
    note_changed_rows(con, schema, losers, [])
    con.execute(f"delete from {table} as changed where {losers}")
    losers_by_file = {
        str(file): int(count)
        for file, count in con.execute(
            "select file, count(*) from duplicate_losers group by file"
        ).fetchall()
    }
    con.execute("drop table duplicate_losers")
    for file, quarantined in losers_by_file.items():
        con.execute(
            "update raw.landed_files set rows_loaded = rows_loaded - ?, "
            "rows_rejected = rows_rejected + ? where source = ? and file = ?",
            [quarantined, quarantined, schema.name, file],
        )
    return losers_by_file


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
    vanished = [
        str(file)
        for file, file_date in known
        if file not in present_files
        and (
            file_date is None
            or ((start is None or file_date >= start) and (end is None or file_date <= end))
        )
    ]
    if not vanished:
        return 0
    _forget_files(con, schema, vanished)
    con.executemany(
        "delete from raw.landed_files where source = ? and file = ?",
        [[schema.name, file] for file in vanished],
    )
    return len(vanished)


def _files_to_load(
    con: duckdb.DuckDBPyConnection,
    files: list[LandedFile],
    business_timezone: str,
    pii_salt: str,
    force: bool,
    report: SourceLoadReport,
) -> list[_FileToLoad]:
    """The files whose content or parsing settings changed since their last load; the others
    are counted in the report as they were loaded."""
    manifest = {
        str(row[0]): row[1:]
        for row in con.execute(
            "select file, fingerprint, rows_landed, rows_loaded, rows_rejected, reason "
            "from raw.landed_files where source = ?",
            [files[0].source.name if files else ""],
        ).fetchall()
    }
    to_load: list[_FileToLoad] = []
    for landed, file_fingerprint in zip(
        files, file_fingerprints(files, business_timezone, pii_salt), strict=True
    ):
        previous = manifest.get(landed.relative_path)
        if previous is not None and previous[0] == file_fingerprint and not force:
            report.files_unchanged += 1
            report.rows_landed += int(previous[1])
            report.rows_loaded += int(previous[2])
            report.rows_rejected += int(previous[3])
            if previous[4] is not None:
                report.rejected_files.append((landed.relative_path, str(previous[4])))
            continue
        to_load.append(_FileToLoad(landed, file_fingerprint, previous is not None))
    return to_load


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
    """Bring the raw table of one source in line with its files in [start, end], in one
    transaction: a load that fails leaves the raw table as it was."""
    ensure_working_schema(con)
    report = SourceLoadReport(source=schema.name)
    files = discover_files(landing_dir, schema, start, end)
    report.files_seen = len(files)
    to_load = _files_to_load(con, files, business_timezone, pii_salt, force, report)
    with _business_time_zone(con, business_timezone):
        staged = _stage_and_check_files(con, schema, to_load)
        checked = {f.landed.relative_path: (f, *staged[f.landed.relative_path]) for f in to_load}
        _count_checked_rows(con, {file: outcome for file, (_, _, outcome) in checked.items()})
        con.execute("begin transaction")
        try:
            report.files_removed = remove_vanished_files(con, schema, files, start, end)
            _forget_files(
                con, schema, [f.landed.relative_path for f in to_load if f.previously_loaded]
            )
            con.execute(f"create or replace temp table {FILES_THIS_RUN} (file varchar)")
            for f, encoding, outcome in checked.values():
                _record_outcome(con, f, encoding, outcome)
            _insert_checked_rows(con, schema, pii_salt)
            note_changed_rows(con, schema, _in_this_run(), [])
            inserted = sum(outcome.rows_loaded for _, _, outcome in checked.values())
            losers = _settle_duplicates(con, schema, inserted)
            con.execute(f"drop table {FILES_THIS_RUN}")
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        finally:
            drop_staged(con)
    outcomes = {file: outcome for file, (_, _, outcome) in checked.items()}
    for file, outcome in outcomes.items():
        lost = losers.get(file, 0)
        report.files_loaded += 1
        report.loaded_files.append(file)
        report.rows_landed += outcome.rows_landed
        report.rows_loaded += outcome.rows_loaded - lost
        report.rows_rejected += outcome.rows_rejected + lost
        if outcome.reason is not None:
            report.rejected_files.append((file, outcome.reason))
    return report
