"""dbt CLI arguments, built by small typed functions."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class DbtVars:
    work_db_path: str
    business_timezone: str
    refresh_start: str | None = None  # the run's partition window (business dates, inclusive)
    refresh_end: str | None = None

    def as_dict(self) -> dict[str, str]:
        values = {"work_db_path": self.work_db_path, "business_timezone": self.business_timezone}
        if self.refresh_start and self.refresh_end:
            values |= {"refresh_start": self.refresh_start, "refresh_end": self.refresh_end}
        return values


def dbt_vars_argument(dbt_vars: DbtVars) -> list[str]:
    return ["--vars", json.dumps(dbt_vars.as_dict(), sort_keys=True)]


def dbt_build_args(dbt_vars: DbtVars, full_refresh: bool = False) -> list[str]:
    """`dbt build` over the selected models, seeds and tests, with Siyu's variables."""
    # cautious: tests on raw sources belong to the raw assets, not to this dbt run
    args = ["build", "--indirect-selection", "cautious", *dbt_vars_argument(dbt_vars)]
    if full_refresh:
        args.append("--full-refresh")
    return args
