"""Parsing rules for landed files: pure functions from bytes to typed Polars frames.

Every value is read as text first, then each column is parsed by the rule of its kind in
`ingestion.schemas`, and each row is checked against the schema's row rules. A row that breaks a
rule is not dropped: it is returned with the reason in words, so the loader can quarantine it.
A file that cannot be read at all raises `BadFileError`. Duplicates of a unique key span files,
so the loader settles them in DuckDB (`ingestion.duplicates`).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date

import polars as pl

from ingestion.schemas import (
    Column,
    DifferenceEquals,
    NotGreaterThan,
    PresentWhenPositive,
    RowRule,
    SourceSchema,
)

ROW_NUMBER = "_row_number"
REASON = "_reason"
RAW_RECORD = "_raw_record"

_TIMESTAMP_PATTERN = (
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2}(?:\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_MONEY_PATTERN = r"^-?\d+(?:\.\d{1,2})?$"
_COUNT_PATTERN = r"^-?\d+$"
_RATE_PATTERN = r"^-?\d+(?:\.\d{1,6})?$"
_FRACTION_PATTERN = r"^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$"
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class BadFileError(ValueError):
    """The whole file is unusable; the message says why in words."""


@dataclass(frozen=True)
class ParsedBatch:
    """The rows of one file: typed good rows, and rejected rows with their reasons."""

    good: pl.DataFrame
    rejected: pl.DataFrame  # columns: _row_number, _reason, _raw_record
    landed: pl.DataFrame  # every row as text, with _row_number (for the quarantine's records)
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


def read_csv_text(text: str) -> pl.DataFrame:
    """All fields as text, header names trimmed; empty fields become null."""
    if not text.strip():
        raise BadFileError("the file has no header row")
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            infer_schema=False,
            truncate_ragged_lines=False,
            raise_if_empty=True,
        )
    except Exception as error:  # polars raises several error types for malformed CSV
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise BadFileError(f"not a valid CSV file: {first_line}") from None
    frame = frame.rename({name: name.strip().lstrip("\ufeff") for name in frame.columns})
    return frame.with_columns(
        pl.col(name).str.strip_chars().replace("", None) for name in frame.columns
    )


def _wechat_list(text: str) -> list[dict]:
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


def read_wechat_json(text: str, schema: SourceSchema) -> pl.DataFrame:
    """The `list` of a WeChat datacube response as text columns, the schema's nested rows (an
    article's details) flattened to one row each.

    WeChat response bodies are small (tens of rows), so flattening them in Python is cheap.
    """
    rows = _wechat_list(text)
    names = [name for name in schema.column_names]
    records: list[dict[str, str | None]] = []
    for item in rows:
        if not isinstance(item, dict):
            records.append({name: None for name in names} | {"_error": "not a JSON object"})
            continue
        nested = item.get(schema.nested_rows) if schema.nested_rows else None
        if isinstance(nested, list) and nested:
            for detail in nested:
                merged = {**item, **detail} if isinstance(detail, dict) else dict(item)
                merged.pop(schema.nested_rows, None)
                records.append({name: _as_text(merged.get(name)) for name in names})
        else:
            records.append({name: _as_text(item.get(name)) for name in names})
    return pl.DataFrame(records, schema={name: pl.String for name in names}, orient="row")


def missing_columns(frame: pl.DataFrame, schema: SourceSchema) -> list[str]:
    return [name for name in schema.column_names if name not in frame.columns]


def parse_timestamp(expr: pl.Expr, business_timezone: str) -> pl.Expr:
    """ISO 8601 text to a UTC instant: an offset (`+08:00`, `Z`) is honoured; no offset means
    local time in the business time zone; a date alone is local midnight. Null if unparseable."""
    parts = expr.str.extract_groups(_TIMESTAMP_PATTERN)
    naive = (
        parts.struct.field("1")
        + pl.lit(" ")
        + parts.struct.field("2").fill_null("00:00")
        + parts.struct.field("3").fill_null(":00")
    ).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")
    offset = parts.struct.field("4").str.replace(":", "")
    offset_minutes = (
        pl.when(offset == "Z")
        .then(0)
        .otherwise(
            (offset.str.slice(0, 1) + "1").cast(pl.Int64, strict=False)
            * (
                offset.str.slice(1, 2).cast(pl.Int64, strict=False) * 60
                + offset.str.slice(3, 2).cast(pl.Int64, strict=False)
            )
        )
    )
    with_offset = (naive - pl.duration(minutes=offset_minutes)).dt.replace_time_zone("UTC")
    local = naive.dt.replace_time_zone(
        business_timezone, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")
    return pl.when(offset.is_null()).then(local).otherwise(with_offset)


def parse_value(column: Column, business_timezone: str) -> pl.Expr:
    """The typed value of a text column, null when it does not parse."""
    text = pl.col(column.name)
    if column.kind in ("id", "text", "enum"):
        return text
    if column.kind == "timestamp":
        return parse_timestamp(text, business_timezone)
    if column.kind == "date":
        return (
            pl.when(text.str.contains(_DATE_PATTERN))
            .then(text.str.to_date("%Y-%m-%d", strict=False))
            .otherwise(None)
        )
    if column.kind == "money":
        return (
            pl.when(text.str.contains(_MONEY_PATTERN))
            .then(text.cast(pl.Decimal(18, 2), strict=False))
            .otherwise(None)
        )
    if column.kind == "rate":
        return (
            pl.when(text.str.contains(_RATE_PATTERN))
            .then(text.cast(pl.Decimal(9, 6), strict=False))
            .otherwise(None)
        )
    if column.kind == "fraction":
        return (
            pl.when(text.str.contains(_FRACTION_PATTERN))
            .then(text.cast(pl.Float64, strict=False))
            .otherwise(None)
        )
    if column.kind in ("count", "int"):
        return (
            pl.when(text.str.contains(_COUNT_PATTERN))
            .then(text.cast(pl.Int64, strict=False))
            .otherwise(None)
        )
    raise ValueError(f"unknown column kind {column.kind!r}")


_KIND_WORDS = {
    "timestamp": "is not an ISO 8601 timestamp",
    "date": "is not a date (YYYY-MM-DD)",
    "money": "is not an amount with at most 2 decimals",
    "rate": "is not a decimal rate",
    "fraction": "is not a number",
    "count": "is not a whole number",
    "int": "is not a whole number",
}


def value_rules(column: Column, typed: str) -> list[tuple[pl.Expr, pl.Expr]]:
    """(is_broken, reason) pairs for one column; `typed` names the parsed column."""
    text = pl.col(column.name)
    rules: list[tuple[pl.Expr, pl.Expr]] = []
    if not column.nullable:
        rules.append((text.is_null(), pl.lit(f"{column.name} is missing")))
    if column.kind in _KIND_WORDS:
        rules.append(
            (
                text.is_not_null() & pl.col(typed).is_null(),
                pl.concat_str(
                    [pl.lit(f"{column.name} '"), text, pl.lit(f"' {_KIND_WORDS[column.kind]}")]
                ),
            )
        )
    if column.kind in ("money", "count", "rate", "fraction"):
        rules.append((pl.col(typed) < 0, pl.lit(f"{column.name} is negative")))
    if column.kind in ("rate", "fraction"):
        rules.append((pl.col(typed) > 1, pl.lit(f"{column.name} is above 1 (rates are fractions)")))
    if column.kind == "enum" and not column.open_enum:
        rules.append(
            (
                text.is_not_null() & ~text.is_in(list(column.allowed)),
                pl.concat_str(
                    [
                        pl.lit(f"{column.name} '"),
                        text,
                        pl.lit(f"' is not one of {', '.join(column.allowed)}"),
                    ]
                ),
            )
        )
    return rules


def _typed(name: str) -> pl.Expr:
    return pl.col(f"__typed_{name}")


def row_rule_check(rule: RowRule) -> tuple[pl.Expr, pl.Expr]:
    """(is_broken, reason) of a rule across the typed columns of a row."""
    broken: pl.Expr
    if isinstance(rule, NotGreaterThan):
        broken = _typed(rule.smaller) > _typed(rule.larger)
    elif isinstance(rule, DifferenceEquals):
        broken = _typed(rule.when_present).is_not_null() & (
            _typed(rule.result) != _typed(rule.minuend) - _typed(rule.subtrahend)
        )
    elif isinstance(rule, PresentWhenPositive):
        broken = (_typed(rule.amount) > 0) & _typed(rule.required).is_null()
    else:
        days = (_typed(rule.end) - _typed(rule.start)).dt.total_days()
        broken = (days < 0) | (days > rule.max_days)
    return broken, pl.lit(rule.reason)


def mask_personal(text: pl.Expr) -> pl.Expr:
    """Keep the first 3 and last 2 characters of a personal value: 13812345678 → 138******78."""
    return (
        pl.when(text.str.len_chars() > 5)
        .then(text.str.slice(0, 3) + pl.lit("******") + text.str.slice(-2))
        .when(text.is_not_null())
        .then(pl.lit("******"))
        .otherwise(None)
    )


def raw_record_json(columns: list[str], schema: SourceSchema) -> pl.Expr:
    """The row as it landed (text of every column, personal data masked), as a JSON object."""
    personal = {column.name for column in schema.columns if column.personal}
    return pl.struct(
        [
            mask_personal(pl.col(name)).alias(name) if name in personal else pl.col(name)
            for name in columns
        ]
    ).struct.json_encode()


def validate_rows(
    frame: pl.DataFrame, schema: SourceSchema, business_timezone: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split text rows into typed good rows and rejected rows (row number, reason, raw record).

    Expects `frame` to hold every schema column as text plus `_row_number`.
    """
    landed_columns = [name for name in frame.columns if name != ROW_NUMBER]
    typed = frame.with_columns(
        parse_value(column, business_timezone).alias(f"__typed_{column.name}")
        for column in schema.columns
    )
    rules: list[tuple[pl.Expr, pl.Expr]] = []
    for column in schema.columns:
        rules.extend(value_rules(column, f"__typed_{column.name}"))
    rules.extend(row_rule_check(rule) for rule in schema.row_rules)
    reasons = [
        pl.when(broken.fill_null(False)).then(reason).otherwise(None) for broken, reason in rules
    ]
    checked = typed.with_columns(
        pl.concat_str(reasons, separator="; ", ignore_nulls=True).replace("", None).alias(REASON)
    )
    rejected = checked.filter(pl.col(REASON).is_not_null()).select(
        pl.col(ROW_NUMBER),
        pl.col(REASON),
        raw_record_json(landed_columns, schema).alias(RAW_RECORD),
    )
    good = checked.filter(pl.col(REASON).is_null()).select(
        [pl.col(f"__typed_{name}").alias(name) for name in schema.column_names]
        + [pl.col(ROW_NUMBER)]
    )
    return good, rejected


def parse_file_bytes(data: bytes, schema: SourceSchema, business_timezone: str) -> ParsedBatch:
    """Bytes of one landed file to a `ParsedBatch`; raises `BadFileError` for unusable files."""
    text, encoding = decode_text(data)
    if schema.file_format == "json":
        frame = read_wechat_json(text, schema)
    else:
        frame = read_csv_text(text)
        missing = missing_columns(frame, schema)
        if missing:
            raise BadFileError(f"required column(s) missing: {', '.join(missing)}")
        frame = frame.select(schema.column_names)
    frame = frame.with_row_index(ROW_NUMBER, offset=1).with_columns(
        pl.col(ROW_NUMBER).cast(pl.Int64)
    )
    good, rejected = validate_rows(frame, schema, business_timezone)
    return ParsedBatch(
        good=good, rejected=rejected, landed=frame, rows_landed=frame.height, encoding=encoding
    )
