"""Great Expectations suites, one per landing source, built from `ingestion.schemas`.

Each source has two suites:
- the *row suite* validates the source's raw rows of one business day (required columns and
  types, keys, allowed values, ranges, row rules);
- the *batch suite* validates one row of figures about that day (`batch_profile`): rejected
  files, the share of quarantined rows, and volume against the previous days.

Expectations whose `meta["severity"]` is "warning" do not gate the refresh; all others do.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.context import gx_context
from expectations.limits import GateLimits
from expectations.profile import derived_columns
from ingestion.schemas import LINEAGE_COLUMNS, DaysAfter, NotGreaterThan, SourceSchema

GATE = {"severity": "gate"}
WARNING = {"severity": "warning"}

# pandas dtypes of the raw columns as DuckDB hands them over (`.df()`), by column kind
# (a column with NULLs comes as pandas' nullable Int64: GX knows it as "Int64Dtype")
PANDAS_TYPES: dict[str, list[str]] = {
    "count": ["int64", "Int64Dtype"],
    "int": ["int64", "Int64Dtype"],
    "money": ["float64", "Float64Dtype", "object"],
    "rate": ["float64", "Float64Dtype", "object"],
    "fraction": ["float64", "Float64Dtype"],
    "date": ["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]", "object"],
}


def row_suite(schema: SourceSchema) -> gx.ExpectationSuite:
    """Expectations on the raw rows of one day of `schema`."""
    gx_context()
    suite = gx.ExpectationSuite(name=f"{schema.name}__rows")
    raw_columns = list(schema.raw_columns) + list(derived_columns(schema))
    suite.add_expectation(
        gxe.ExpectTableColumnsToMatchSet(column_set=raw_columns, exact_match=True, meta=GATE)
    )
    for column in schema.columns:
        name = column.raw_name
        if not column.nullable:
            suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=name, meta=GATE))
        if column.kind in PANDAS_TYPES:
            suite.add_expectation(
                gxe.ExpectColumnValuesToBeInTypeList(
                    column=name, type_list=PANDAS_TYPES[column.kind], meta=GATE
                )
            )
        if column.kind == "enum" and not column.open_enum:
            suite.add_expectation(
                gxe.ExpectColumnValuesToBeInSet(
                    column=name, value_set=list(column.allowed), meta=GATE
                )
            )
        if column.kind in ("money", "count"):
            suite.add_expectation(
                gxe.ExpectColumnValuesToBeBetween(column=name, min_value=0, meta=GATE)
            )
        if column.kind in ("rate", "fraction"):
            suite.add_expectation(
                gxe.ExpectColumnValuesToBeBetween(column=name, min_value=0, max_value=1, meta=GATE)
            )
        if column.personal:
            # only a 64-character SHA-256 hex digest may be stored
            suite.add_expectation(
                gxe.ExpectColumnValueLengthsToEqual(column=name, value=64, meta=GATE)
            )
    for rule in schema.row_rules:
        if isinstance(rule, NotGreaterThan):
            suite.add_expectation(
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A=rule.larger,
                    column_B=rule.smaller,
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                    meta=GATE,
                )
            )
    if schema.unique_key:
        # the key is unique up to exact duplicates (which are ignored downstream)
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeInSet(column="key_conflict", value_set=[False], meta=GATE)
        )
    for rule in schema.row_rules:
        if isinstance(rule, DaysAfter):
            suite.add_expectation(
                gxe.ExpectColumnValuesToBeBetween(
                    column=rule.offset_column, min_value=0, max_value=rule.max_days, meta=GATE
                )
            )
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="_file", meta=GATE))
    assert set(LINEAGE_COLUMNS) <= set(raw_columns)
    return suite


def batch_suite(schema: SourceSchema, limits: GateLimits) -> gx.ExpectationSuite:
    """Expectations on the one-row profile of a day (see `expectations.profile`)."""
    gx_context()
    volume = GATE if limits.volume_blocking else WARNING
    suite = gx.ExpectationSuite(name=f"{schema.name}__batch")
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(column="rejected_files", max_value=0, meta=GATE)
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="quarantine_share", max_value=limits.max_quarantine_share, meta=GATE
        )
    )
    if schema.dated:
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(column="empty_after_rows", max_value=0, meta=volume)
        )
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(
                column="volume_ratio", min_value=1 - limits.max_volume_drop, meta=volume
            )
        )
    return suite
