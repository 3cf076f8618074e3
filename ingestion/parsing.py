"""Parsing rules for landed files, as the SQL DuckDB runs on a file's text.

A landed file is first *staged* as text in a temporary table of the DuckDB connection: a CSV by
DuckDB's own reader (multi-threaded, every value read as text, trimmed, empty as NULL), a WeChat
body by flattening its `list` (and an article's nested details) in Python — those are small.
Then every column is parsed by the rule of its kind in `ingestion.schemas` (exact decimals, ISO
8601 timestamps: an offset honoured, none meaning local time in the business time zone, set as
the connection's TimeZone), and every row is checked against the column rules and the schema's
row rules. A row that breaks a rule is not dropped: it keeps its reason in words and its record
as it landed (personal data masked), so the loader can quarantine it. A file that cannot be read
at all raises `BadFileError`. Duplicates of a unique key are settled after the rows are loaded
(`ingestion.duplicates`).
"""

from __future__ import annotations

import codecs
import csv
import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]  # ships no type information

from ingestion.queries import sql_literal
from ingestion.schemas import (
    Column,
    DaysAfter,
    DifferenceEquals,
    NotGreaterThan,
    PresentWhenPositive,
    RowRule,
    SourceSchema,
)

ROW_NUMBER = "_row_number"
REASON = "_reason"
RAW_RECORD = "_raw_record"
STAGED = "landed_text"  # the temporary table of text staged in Python or file by file
PARSED = "parsed_rows"  # ... of every staged row parsed and checked, in the files' order
STAGED_FILES = "staged_files"  # ... of the files staged (the path read, lineage)
FIRST_ROWS = "first_rows"  # ... of the rowid in `parsed_rows` of each file's first row
CHECKED = "checked_rows"  # the temporary view of the checked rows with lineage

_TIMESTAMP_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$"
)
_MONEY_PATTERN = r"^-?\d+(?:\.\d{1,2})?$"
_COUNT_PATTERN = r"^-?\d+$"
_RATE_PATTERN = r"^-?\d+(?:\.\d{1,6})?$"
_FRACTION_PATTERN = r"^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$"
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

# the pattern a value's text must match before it is cast to its kind's DuckDB type
_KIND_PATTERNS: dict[str, str] = {
    "timestamp": _TIMESTAMP_PATTERN,
    "date": _DATE_PATTERN,
    "money": _MONEY_PATTERN,
    "rate": _RATE_PATTERN,
    "fraction": _FRACTION_PATTERN,
    "count": _COUNT_PATTERN,
    "int": _COUNT_PATTERN,
}
_KIND_WORDS = {
    "timestamp": "is not an ISO 8601 timestamp",
    "date": "is not a date (YYYY-MM-DD)",
    "money": "is not an amount with at most 2 decimals",
    "rate": "is not a decimal rate",
    "fraction": "is not a number",
    "count": "is not a whole number",
    "int": "is not a whole number",
}


class BadFileError(ValueError):
    """The whole file is unusable; the message says why in words."""


@dataclass(frozen=True)
class ParsedBatch:
    """The rows of one file (`parse_file_bytes`): typed good rows, rejected rows with reasons."""

    good: pl.DataFrame
    rejected: pl.DataFrame  # columns: _row_number, _reason, _raw_record
    rows_landed: int
    encoding: str


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a landed file: UTF-8 (with or without BOM) first, then GB18030 (a GBK superset)."""
    if len(data) == 0:
        raise BadFileError("the file is empty (0 bytes)")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as error:
        raise BadFileError(
            f"the text is neither valid UTF-8 nor GB18030 (undecodable bytes at offset "
            f"{error.start})"
        ) from None


def file_date_from_name(stem: str) -> date:
    """The date a daily file is for, from its name `<YYYY-MM-DD>.<ext>`."""
    try:
        return date.fromisoformat(stem)
    except ValueError:
        raise BadFileError(f"the file name {stem!r} is not a date (expected YYYY-MM-DD)") from None


_literal = sql_literal


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- staging: a file's text into a temporary table ------------------------------------------


def _wechat_list(text: str) -> list[object]:
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadFileError(f"not valid JSON: {error.msg} at line {error.lineno}") from None
    if not isinstance(body, dict):
        raise BadFileError("not a WeChat API response: the body is not a JSON object")
    errcode = body.get("errcode", 0)
    if errcode not in (0, None):
        raise BadFileError(
            f"a WeChat error body (errcode {errcode}: {body.get('errmsg', 'no errmsg')}): "
            "the fetch failed and must be re-run"
        )
    rows = body.get("list")
    if not isinstance(rows, list):
        raise BadFileError("not a WeChat API response: no 'list' array in the body")
    return rows


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip() or None


def wechat_rows(text: str, schema: SourceSchema) -> pa.Table:
    """The `list` of a WeChat datacube response as text columns, the schema's nested rows (an
    article's details) flattened to one row each. Bodies are small (at most a few thousand
    rows), so this is plain Python."""
    names = list(schema.column_names)
    records: list[dict[str, str | None]] = []
    for item in _wechat_list(text):
        if not isinstance(item, dict):
            records.append({name: None for name in names})
            continue
        nested = item.get(schema.nested_rows) if schema.nested_rows else None
        if isinstance(nested, list) and nested:
            for detail in nested:
                merged = {**item, **detail} if isinstance(detail, dict) else dict(item)
                merged.pop(schema.nested_rows or "", None)
                records.append({name: _as_text(merged.get(name)) for name in names})
        else:
            records.append({name: _as_text(item.get(name)) for name in names})
    columns = {name: pa.array([r[name] for r in records], pa.string()) for name in names}
    return pa.table({ROW_NUMBER: pa.array(range(1, len(records) + 1), pa.int64()), **columns})


_CSV_OPTIONS = (
    "header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', "
    "strict_mode = true, null_padding = false"
)
PATH = "_path"  # the column of `landed_text` naming the file a row was read from


@dataclass(frozen=True)
class FileToStage:
    file: str  # the file's name in lineage (relative to the landing folder)
    path: Path
    file_date: date | None


@dataclass(frozen=True)
class _ReadableCsv:
    file: FileToStage
    path: Path  # what DuckDB reads: the file, or a UTF-8 copy of a GB18030 file
    encoding: str  # the file's own: utf-8 or gb18030
    header_as_named: bool  # the schema's columns are named exactly so in the header


def _csv_header(text: str) -> list[str]:
    first_line = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    return next(csv.reader([first_line]), [])


_HEAD_BYTES = 1 << 16  # what of a CSV file Python reads before DuckDB reads the whole of it


def _utf8_head(path: Path) -> str | None:
    """The start of a file decoded as UTF-8 (a character cut at the end is left out), or None
    when it is not UTF-8. DuckDB's reader checks that the rest is UTF-8 as it reads."""
    with open(path, "rb") as handle:
        head = handle.read(_HEAD_BYTES)
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return None


def _readable_csv(
    staged: FileToStage, schema: SourceSchema, folder: Path, whole_file: bool = False
) -> _ReadableCsv:
    """A CSV file as DuckDB will read it, after the checks of the whole file that need no
    parsing: not empty, an encoding Siyu reads, a header with the schema's columns. A file
    whose start is UTF-8 is taken as UTF-8 (DuckDB refuses it if the rest is not: it is then
    looked at again `whole_file`); the others are decoded whole, and a GB18030 file is given to
    DuckDB as a UTF-8 copy."""
    if staged.path.stat().st_size == 0:
        raise BadFileError("the file is empty (0 bytes)")
    text, encoding = (None, "utf-8") if whole_file else (_utf8_head(staged.path), "utf-8")
    if text is None or (text.isspace() and staged.path.stat().st_size > _HEAD_BYTES):
        text, encoding = decode_text(staged.path.read_bytes())  # UTF-8, else GB18030
    path = staged.path
    if encoding != "utf-8":
        path = folder / f"{len(list(folder.iterdir()))}.csv"
        path.write_text(text, encoding="utf-8")
    if not text or text.isspace():  # (no copy of a large text)
        raise BadFileError("the file has no header row")
    header = _csv_header(text)
    stripped = {name.strip() for name in header}
    missing = [name for name in schema.column_names if name not in stripped]
    if missing:
        raise BadFileError(f"required column(s) missing: {', '.join(missing)}")
    return _ReadableCsv(staged, path, encoding, set(schema.column_names) <= set(header))


def _read_csv_sql(paths: list[Path], schema: SourceSchema, by_name: dict[str, str]) -> str:
    """SQL: the rows of CSV files as text (trimmed, empty as NULL) with the path of each."""
    files = "[" + ", ".join(_literal(str(path)) for path in paths) + "]"
    columns = ", ".join(
        f"nullif(trim({_ident(by_name[name])}), '') as {_ident(name)}"
        for name in schema.column_names
    )
    return (
        f"select {PATH}, cast(null as bigint) as {ROW_NUMBER}, {columns} "
        f"from read_csv({files}, {_CSV_OPTIONS}, filename = {_literal(PATH)}, union_by_name = true)"
    )


def _parse_csv_rows(
    con: duckdb.DuckDBPyConnection,
    readable: list[_ReadableCsv],
    schema: SourceSchema,
    folder: Path,
) -> tuple[dict[str, BadFileError], dict[str, _ReadableCsv]]:
    """Read, parse and check the CSV files into `parsed_rows`: in one multi-threaded statement
    when they all read cleanly (the text is never stored), else file by file through
    `landed_text`, to reject the files DuckDB cannot read."""
    exact = [r for r in readable if r.header_as_named]
    one_by_one = [r for r in readable if not r.header_as_named]
    names = {name: name for name in schema.column_names}
    if exact:
        read = _read_csv_sql([r.path for r in exact], schema, names)
        try:  # `parsed_rows` is empty yet: created anew, its rows keep the files' order
            con.execute(f"create or replace temp table {PARSED} as {parsed_rows_sql(schema, read)}")
        except duckdb.Error:
            _create_parsed_rows(con, schema)
            one_by_one = readable
    rejected: dict[str, BadFileError] = {}
    read_again: dict[str, _ReadableCsv] = {}
    for r in one_by_one:
        try:
            try:
                _stage_one_csv(con, r, schema)
            except duckdb.Error as error:
                if r.path != r.file.path or "not utf-8 encoded" not in str(error):
                    raise
                # only its start was looked at: decoded whole, it is GB18030 or unreadable
                r = read_again[r.file.file] = _readable_csv(r.file, schema, folder, True)
                _stage_one_csv(con, r, schema)
        except (duckdb.Error, KeyError) as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            rejected[r.file.file] = BadFileError(f"not a valid CSV file: {first_line}")
        except BadFileError as error:
            rejected[r.file.file] = error
    return rejected, read_again


def _stage_one_csv(con: duckdb.DuckDBPyConnection, r: _ReadableCsv, schema: SourceSchema) -> None:
    """One CSV file's text into `landed_text`, its header matched to the schema's names."""
    described = con.execute(
        f"describe select * from read_csv({_literal(str(r.path))}, {_CSV_OPTIONS})"
    ).fetchall()
    by_name = {str(row[0]).strip().lstrip("\ufeff"): str(row[0]) for row in described}
    con.execute(f"insert into {STAGED} by name {_read_csv_sql([r.path], schema, by_name)}")


def _insert_json_rows(
    con: duckdb.DuckDBPyConnection, staged: FileToStage, schema: SourceSchema
) -> str:
    text, encoding = decode_text(staged.path.read_bytes())
    con.register("wechat_rows", wechat_rows(text, schema))
    try:
        con.execute(
            f"insert into {STAGED} by name select $path as {PATH}, * from wechat_rows",
            {"path": str(staged.path)},
        )
    finally:
        con.unregister("wechat_rows")
    return encoding


def _create_parsed_rows(con: duckdb.DuckDBPyConnection, schema: SourceSchema) -> None:
    con.execute(
        f"create or replace temp table {PARSED} as "
        f"{parsed_rows_sql(schema, f'select * from {STAGED}')} limit 0"
    )


def stage_files(
    con: duckdb.DuckDBPyConnection, files: list[FileToStage], schema: SourceSchema
) -> dict[str, str | BadFileError]:
    """Stage, parse and check the rows of the source's files: the temporary view
    `checked_rows` has them with lineage (`_file`, `_file_date`, `_row_number`), the text of
    every column, the parsed values and the reason a row is rejected (`checked_rows_sql`).
    A CSV row's number comes from its rowid in `parsed_rows`, which follows the file's order; a
    WeChat body's rows are numbered as they are flattened. Returns for each file its encoding,
    or the BadFileError that rejects it. `drop_staged` drops what this creates."""
    text_columns = ", ".join(f"{_ident(name)} varchar" for name in schema.column_names)
    con.execute(
        f"create or replace temp table {STAGED} "
        f"({PATH} varchar, {ROW_NUMBER} bigint, {text_columns})"
    )
    con.execute(
        f"create or replace temp table {STAGED_FILES} "
        f"({PATH} varchar, _file varchar, _file_date date)"
    )
    _create_parsed_rows(con, schema)
    outcome: dict[str, str | BadFileError] = {}
    readable: list[_ReadableCsv] = []
    with tempfile.TemporaryDirectory() as folder:
        for staged in files:
            try:
                if schema.file_format == "json":
                    outcome[staged.file] = _insert_json_rows(con, staged, schema)
                    continue
                readable.append(_readable_csv(staged, schema, Path(folder)))
            except BadFileError as error:
                outcome[staged.file] = error
        rejected, read_again = _parse_csv_rows(con, readable, schema, Path(folder))
        outcome.update(rejected)
        readable = [read_again.get(r.file.file, r) for r in readable]
        for r in readable:
            outcome.setdefault(r.file.file, r.encoding)
        read_as = {r.file.file: r.path for r in readable}
        staged_files = [
            [str(read_as.get(f.file, f.path)), f.file, f.file_date]
            for f in files
            if isinstance(outcome[f.file], str)
        ]
        if staged_files:
            con.executemany(f"insert into {STAGED_FILES} values (?, ?, ?)", staged_files)
    con.execute(f"insert into {PARSED} {parsed_rows_sql(schema, f'select * from {STAGED}')}")
    con.execute(f"drop table {STAGED}")
    con.execute(
        f"create or replace temp table {FIRST_ROWS} as "
        f"select {PATH}, min(rowid) as first_rowid from {PARSED} group by {PATH}"
    )
    con.execute(f"create or replace temp view {CHECKED} as {checked_rows_sql(schema)}")
    return outcome


def drop_staged(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temporary view and tables of `stage_files`."""
    con.execute(f"drop view if exists {CHECKED}")
    for table in (PARSED, FIRST_ROWS, STAGED_FILES, STAGED):
        con.execute(f"drop table if exists {table}")


# -- the rules, as SQL over the staged text -------------------------------------------------


def typed(name: str) -> str:
    """The column holding the parsed value of column `name` in `parsed_rows`."""
    return _ident(f"__typed_{name}")


def typed_value(column: Column) -> str:
    """SQL: the column's value parsed by the rule of its kind, NULL when it does not parse."""
    text = _ident(column.name)
    if column.kind not in _KIND_PATTERNS:
        return text
    value = f"try_cast({text} as {column.duckdb_type})"
    if column.kind == "timestamp":
        # DuckDB's cast takes no space before an offset (10:00 +08:00) and refuses every text
        # that has one, so only those few are rewritten: coalesce evaluates its second
        # argument on the rows whose first is NULL
        without_space = f"regexp_replace({text}, '\\s+([Z+-])', '\\1')"
        value = f"coalesce({value}, try_cast({without_space} as {column.duckdb_type}))"
    return (
        f"case when regexp_full_match({text}, {_literal(_KIND_PATTERNS[column.kind])}) "
        f"then {value} end"
    )


def value_checks(column: Column) -> list[tuple[str, str]]:
    """(is_broken, reason) SQL pairs of one column."""
    text, value = _ident(column.name), typed(column.name)
    checks: list[tuple[str, str]] = []
    if not column.nullable:
        checks.append((f"{text} is null", _literal(f"{column.name} is missing")))
    if column.kind in _KIND_WORDS:
        checks.append(
            (
                f"{text} is not null and {value} is null",
                f"{_literal(column.name + ' ' + chr(39))} || {text} || "
                f"{_literal(chr(39) + ' ' + _KIND_WORDS[column.kind])}",
            )
        )
    if column.kind in ("money", "count", "rate", "fraction"):
        checks.append((f"{value} < 0", _literal(f"{column.name} is negative")))
    if column.kind in ("rate", "fraction"):
        checks.append((f"{value} > 1", _literal(f"{column.name} is above 1 (rates are fractions)")))
    if column.kind == "enum" and not column.open_enum:
        allowed = ", ".join(_literal(value) for value in column.allowed)
        checks.append(
            (
                f"{text} is not null and {text} not in ({allowed})",
                f"{_literal(column.name + ' ' + chr(39))} || {text} || "
                f"{_literal(chr(39) + ' is not one of ' + ', '.join(column.allowed))}",
            )
        )
    return checks


def row_rule_check(rule: RowRule) -> tuple[str, str]:
    """(is_broken, reason) SQL of a rule across the typed columns of a row."""
    if isinstance(rule, NotGreaterThan):
        broken = f"{typed(rule.smaller)} > {typed(rule.larger)}"
    elif isinstance(rule, DifferenceEquals):
        broken = (
            f"{typed(rule.when_present)} is not null and {typed(rule.result)} <> "
            f"{typed(rule.minuend)} - {typed(rule.subtrahend)}"
        )
    elif isinstance(rule, PresentWhenPositive):
        broken = f"{typed(rule.amount)} > 0 and {typed(rule.required)} is null"
    elif isinstance(rule, DaysAfter):
        days = f"datediff('day', {typed(rule.start)}, {typed(rule.end)})"
        broken = f"{days} < 0 or {days} > {rule.max_days}"
    else:  # pragma: no cover - every rule class is handled above
        raise TypeError(f"no SQL for the row rule {rule!r}")
    return broken, _literal(rule.reason)


def masked(text: str) -> str:
    """SQL: keep the first 3 and last 2 characters of a personal value (138******78)."""
    return (
        f"case when length({text}) > 5 then substr({text}, 1, 3) || '******' || "
        f"substr({text}, -2) when {text} is not null then '******' end"
    )


def raw_record(schema: SourceSchema, prefix: str = "") -> str:
    """SQL: the row as it landed (the text of every column, personal data masked), as JSON;
    `prefix` qualifies the text columns (`w.`)."""
    fields = ", ".join(
        f"{_literal(column.name)}, "
        + (
            masked(prefix + _ident(column.name))
            if column.personal
            else prefix + _ident(column.name)
        )
        for column in schema.columns
    )
    return f"cast(json_object({fields}) as varchar)"


def parsed_rows_sql(schema: SourceSchema, text_rows: str) -> str:
    """SQL: rows of text (`text_rows`: `_path`, `_row_number`, the text columns) parsed and
    checked — the same columns, the typed ones (`__typed_<name>`), and `_reason` (NULL for a
    good row). One pass: DuckDB streams a file's read through it, in parallel."""
    typed_columns = ", ".join(
        f"{typed_value(column)} as {typed(column.name)}" for column in schema.columns
    )
    checks = [check for column in schema.columns for check in value_checks(column)]
    checks += [row_rule_check(rule) for rule in schema.row_rules]
    reasons = ", ".join(f"case when {broken} then {reason} end" for broken, reason in checks)
    return f"""
        with
        staged as ({text_rows}),
        parsed as (select *, {typed_columns} from staged)
        select *, nullif(concat_ws('; ', {reasons}), '') as {REASON} from parsed
        """


def checked_rows_sql(schema: SourceSchema) -> str:
    """SQL: the parsed rows with their lineage — `_file`, `_file_date`, `_row_number`, the
    text, typed and `_reason` columns of `parsed_rows`."""
    other_columns = ", ".join(
        [f"t.{_ident(name)}" for name in schema.column_names]
        + [f"t.{typed(column.name)}" for column in schema.columns]
        + [f"t.{REASON}"]
    )
    return f"""
        select
            f._file,
            f._file_date,
            -- a CSV row has no number of its own: its rowid follows the file's order
            coalesce(t.{ROW_NUMBER}, t.rowid - r.first_rowid + 1) as {ROW_NUMBER},
            {other_columns}
        from {PARSED} as t
        inner join {STAGED_FILES} as f on t.{PATH} = f.{PATH}
        inner join {FIRST_ROWS} as r on t.{PATH} = r.{PATH}
        """


# -- one file, outside the pipeline: the parsing rules' unit tests, through the same SQL -------


def parse_file_bytes(data: bytes, schema: SourceSchema, business_timezone: str) -> ParsedBatch:
    """The rows of one file, parsed and checked as the loader does, in a DuckDB of its own."""
    with duckdb.connect(":memory:") as con, tempfile.TemporaryDirectory() as folder:
        con.execute(f"set TimeZone = {_literal(business_timezone)}")
        path = Path(folder) / f"landed.{schema.file_format}"
        path.write_bytes(data)
        encoding = stage_files(con, [FileToStage("landed", path, None)], schema)["landed"]
        if isinstance(encoding, BadFileError):
            raise encoding
        good = con.sql(
            f"select {', '.join(f'{typed(n)} as {_ident(n)}' for n in schema.column_names)}, "
            f"{ROW_NUMBER} from {CHECKED} where {REASON} is null order by {ROW_NUMBER}"
        ).to_arrow_table()
        rejected = con.sql(
            f"select {ROW_NUMBER}, {REASON}, {raw_record(schema)} as {RAW_RECORD} "
            f"from {CHECKED} where {REASON} is not null order by {ROW_NUMBER}"
        ).to_arrow_table()
        landed = int(con.execute(f"select count(*) from {CHECKED}").fetchall()[0][0])
    return ParsedBatch(
        good=_frame(good), rejected=_frame(rejected), rows_landed=landed, encoding=encoding
    )


def _frame(table: object) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def parse_timestamps(texts: list[str], business_timezone: str) -> list[object]:
    """The UTC instants of ISO 8601 texts (None where one does not parse), as the loader parses
    them: an offset honoured, none meaning local time in the business time zone."""
    column = Column("t", "timestamp", "")
    with duckdb.connect(":memory:") as con:
        con.execute(f"set TimeZone = {_literal(business_timezone)}")
        con.register("texts", pa.table({"t": pa.array(texts, pa.string())}))
        rows = con.execute(f"select {typed_value(column)} from texts").fetchall()
    return [row[0] for row in rows]
