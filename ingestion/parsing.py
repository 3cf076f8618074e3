"""Parsing rules for landed files: pure functions from bytes to typed Polars frames.

Every value is read as text first, then each column is parsed by the rule of its kind in
`ingestion.schemas`. A row that breaks a rule is not dropped: it is returned with the reason in
words, so the loader can quarantine it. A file that cannot be read at all raises `BadFileError`.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date

import polars as pl

from ingestion.schemas import Column, SourceSchema

ROW_NUMBER = "_row_number"
REASON = "_reason"
RAW_RECORD = "_raw_record"

_TIMESTAMP_PATTERN = (
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2}(?:\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_MONEY_PATTERN = r"^-?\d+(?:\.\d{1,2})?$"
_COUNT_PATTERN = r"^-?\d+$"
_RATE_PATTERN = r"^-?\d+(?:\.\d{1,6})?$"
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class BadFileError(ValueError):
    """The whole file is unusable; the message says why in words."""


@dataclass(frozen=True)
class ParsedBatch:
    """The rows of one file: typed good rows, and rejected rows with their reasons."""

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
    """The `list` of a WeChat datacube response as text columns; details flattened for articles.

    WeChat response bodies are small (tens of rows), so flattening them in Python is cheap.
    """
    rows = _wechat_list(text)
    names = [name for name in schema.column_names]
    records: list[dict[str, str | None]] = []
    for item in rows:
        if not isinstance(item, dict):
            records.append({name: None for name in names} | {"_error": "not a JSON object"})
            continue
        details = item.get("details") if schema.entity == "article_total" else None
        if schema.entity == "article_total" and isinstance(details, list) and details:
            for detail in details:
                merged = {**item, **detail} if isinstance(detail, dict) else dict(item)
                merged.pop("details", None)
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
    if column.kind in ("money", "count", "rate"):
        rules.append((pl.col(typed) < 0, pl.lit(f"{column.name} is negative")))
    if column.kind == "rate":
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


def source_rules(schema: SourceSchema) -> list[tuple[pl.Expr, pl.Expr]]:
    """Rules across columns of one row, on the typed columns."""
    rules: list[tuple[pl.Expr, pl.Expr]] = []
    for smaller, larger in schema.not_greater_than:
        rules.append(
            (
                pl.col(f"__typed_{smaller}") > pl.col(f"__typed_{larger}"),
                pl.lit(f"{smaller} is greater than {larger}"),
            )
        )
    if schema.name == "mall_orders":
        paid = pl.col("__typed_paid_at").is_not_null()
        rules.append(
            (
                paid
                & (
                    pl.col("__typed_paid_amount")
                    != pl.col("__typed_gross_amount") - pl.col("__typed_discount_amount")
                ),
                pl.lit("paid_amount is not gross_amount − discount_amount"),
            )
        )
        rules.append(
            (
                (pl.col("__typed_refund_amount") > 0) & pl.col("__typed_refunded_at").is_null(),
                pl.lit("refund_amount is above 0 but refunded_at is empty"),
            )
        )
    if schema.name == "wechat_oa_article_total":
        days = (pl.col("__typed_stat_date") - pl.col("__typed_ref_date")).dt.total_days()
        rules.append(
            (
                (days < 0) | (days > 6),
                pl.lit("stat_date is not within 7 days from ref_date"),
            )
        )
    return rules


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
    rules.extend(source_rules(schema))
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


def conflicting_duplicates(good: pl.DataFrame, schema: SourceSchema) -> pl.Series:
    """Within one batch: True for rows whose unique key appeared earlier with other content.
    Exact duplicates are not conflicts (they are ignored downstream)."""
    if not schema.unique_key or good.is_empty():
        return pl.Series("conflict", [False] * good.height, dtype=pl.Boolean)
    content = [name for name in schema.column_names]
    fingerprint = pl.struct(content).hash()
    first_fingerprint = fingerprint.first().over(list(schema.unique_key), order_by=ROW_NUMBER)
    return good.select((fingerprint != first_fingerprint).alias("conflict")).to_series()


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
    if schema.unique_key:
        conflict = conflicting_duplicates(good, schema)
        if conflict.any():
            conflicts = good.filter(conflict)
            rejected = pl.concat(
                [
                    rejected,
                    frame.join(conflicts.select(ROW_NUMBER), on=ROW_NUMBER).select(
                        pl.col(ROW_NUMBER),
                        pl.lit(
                            f"conflicting duplicate of {', '.join(schema.unique_key)}: an earlier "
                            "row has the same key with other values (the first one is kept)"
                        ).alias(REASON),
                        raw_record_json(list(schema.column_names), schema).alias(RAW_RECORD),
                    ),
                ]
            ).sort(ROW_NUMBER)
            good = good.filter(~conflict)
    return ParsedBatch(good=good, rejected=rejected, rows_landed=frame.height, encoding=encoding)
