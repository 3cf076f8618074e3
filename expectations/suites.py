"""Great Expectations suites, one per landing source, built from `ingestion.schemas`.

Each source has two suites, both on figures DuckDB computes per business day
(`expectations.profile`):
- the *row suite* on the counts of rows that break each row check (required values, allowed
  sets, ranges, ordered pairs, the day window, conflicting duplicates) among the rows the
  refresh loaded, and the raw table's declared columns and types: every count must be 0;
- the *batch suite* on the day's profile: rejected files, the share of quarantined rows, and
  volume against the previous days.

Expectations whose `meta["severity"]` is "warning" do not gate the refresh; all others do.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.context import gx_context
from expectations.limits import GateLimits
from expectations.profile import DECLARED_COLUMNS, row_checks, row_metrics_columns
from ingestion.schemas import SourceSchema

GATE = {"severity": "gate"}
WARNING = {"severity": "warning"}


def row_suite(schema: SourceSchema) -> gx.ExpectationSuite:
    """Expectations on the per-day metrics of the rows a refresh loaded
    (`expectations.profile.row_metrics`): no row breaks any row check, and the raw table has
    exactly its declared columns and types."""
    gx_context()
    suite = gx.ExpectationSuite(name=f"{schema.name}__rows")
    suite.add_expectation(
        gxe.ExpectTableColumnsToMatchSet(
            column_set=row_metrics_columns(schema), exact_match=True, meta=GATE
        )
    )
    for check in row_checks(schema):
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(
                column=check.metric, min_value=0, max_value=0, meta=GATE | {"rows": check.words}
            )
        )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column=DECLARED_COLUMNS,
            min_value=0,
            max_value=0,
            meta=GATE | {"rows": "raw table columns missing, of another type, or undeclared"},
        )
    )
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
