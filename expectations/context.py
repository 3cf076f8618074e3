"""The process's ephemeral Great Expectations context (GX is slow to import and set up)."""

from __future__ import annotations

import functools
import logging
from typing import Any

logging.getLogger("great_expectations").setLevel(logging.ERROR)


@functools.cache
def gx_context() -> Any:
    """An ephemeral context with a pandas datasource `siyu`; suites need one to be built."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.data_sources.add_pandas("siyu")
    return context
