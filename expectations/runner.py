"""Run a suite on a pandas batch in an ephemeral Great Expectations context.

GX's SQL datasource does not work on DuckDB (duckdb-engine), so batches are validated as
dataframes. The context is created once per process (GX is slow to import and set up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from expectations.context import gx_context


@dataclass(frozen=True)
class Failure:
    """One expectation that failed, in words, with where it failed."""

    expectation: str
    column: str
    severity: str  # "gate" or "warning"
    detail: str
    where: list[str] = field(default_factory=list)  # e.g. files / rows / days

    def describe(self) -> str:
        place = f" in {', '.join(self.where[:5])}" if self.where else ""
        more = f" (+{len(self.where) - 5} more)" if len(self.where) > 5 else ""
        column = f" on {self.column}" if self.column else ""
        return f"{self.expectation}{column}: {self.detail}{place}{more}"


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    rows: int
    failures: list[Failure]
    result: dict[str, Any]


def _asset(name: str) -> Any:
    datasource = gx_context().data_sources.get("siyu")
    try:
        return datasource.get_asset(name)
    except LookupError:
        return datasource.add_dataframe_asset(name)


def _failure(result: Any, index_columns: list[str]) -> Failure:
    config = result.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column") or ", ".join(
        kwargs.get("column_list")
        or [c for c in (kwargs.get("column_A"), kwargs.get("column_B")) if c]
    )
    details = result.result or {}
    if "unexpected_count" in details and details.get("unexpected_count") is not None:
        examples = details.get("partial_unexpected_list") or []
        shown = ", ".join(repr(v) for v in examples[:3])
        detail = f"{details['unexpected_count']} unexpected value(s)" + (
            f", e.g. {shown}" if shown else ""
        )
    elif "observed_value" in details:
        detail = f"observed {details['observed_value']!r}"
    else:
        detail = "failed"
    if result.exception_info and result.exception_info.get("raised_exception"):
        detail = f"could not be evaluated: {result.exception_info.get('exception_message')}"
    where: list[str] = []
    for item in details.get("unexpected_index_list") or []:
        if isinstance(item, dict):
            where.append(" row ".join(str(item[c]) for c in index_columns if c in item))
    severity = (config.meta or {}).get("severity", "gate")
    return Failure(config.type, column, severity, detail, sorted(set(where)))


def validate_batch(suite: Any, frame: pd.DataFrame, index_columns: list[str]) -> SuiteOutcome:
    """Validate `frame` with `suite`; `index_columns` name where a failing row comes from."""
    context = gx_context()
    suite = context.suites.add_or_update(suite)
    batch_definition_name = "whole"
    asset = _asset(suite.name)
    try:
        batch_definition = asset.get_batch_definition(batch_definition_name)
    except Exception:  # GX raises its own KeyError subclass when it is missing
        batch_definition = asset.add_batch_definition_whole_dataframe(batch_definition_name)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    # first the verdicts alone (GX skips the unexpected values and indexes: about half the time
    # of a daily run's gates); a suite with a failed expectation runs again to say where
    result = batch.validate(suite, result_format={"result_format": "BOOLEAN_ONLY"})
    usable = [c for c in index_columns if c in frame.columns]
    if not result.success:
        result = batch.validate(
            suite,
            result_format={
                "result_format": "COMPLETE" if usable else "SUMMARY",
                "unexpected_index_column_names": usable,
                "partial_unexpected_count": 3,
                "return_unexpected_index_query": False,
            },
        )
    failures = [_failure(r, usable) for r in result.results if not r.success]
    summary = {
        "success": bool(result.success),
        "statistics": dict(result.statistics),
        "failed_expectations": [f.describe() for f in failures],
    }
    return SuiteOutcome(suite.name, len(frame), failures, summary)
