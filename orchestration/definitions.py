"""The one entry point of Siyu's Dagster code location.

`build_definitions(settings)` builds every asset, check, job, schedule and sensor for one set of
settings: the partitions, the schedule and the freshness checks follow its business time zone.
`siyu refresh` calls it with the settings of its options; `dagster dev` (`siyu ui`) loads `defs`,
which resolves the settings from the environment when the code location loads, not at import.
"""

from __future__ import annotations

import os

from dagster import Definitions, definitions
from dagster_dbt import DbtCliResource

from orchestration.jobs import build_refresh_job
from orchestration.landing.assets import build_bookkeeping_specs, build_raw_assets
from orchestration.operations.freshness import build_freshness_checks
from orchestration.operations.schedules import build_daily_schedule
from orchestration.operations.sensors import build_landing_sensor
from orchestration.partitions import daily_partitions
from orchestration.serving.assets import serving_warehouse
from orchestration.settings import SiyuSettings, resolve_settings
from orchestration.transform.assets import build_dbt_assets
from orchestration.transform.project import dbt_executable, prepare_dbt_project, siyu_dbt_project


def build_definitions(settings: SiyuSettings) -> Definitions:
    prepare_dbt_project()
    partitions = daily_partitions(settings.business_timezone)
    refresh_job = build_refresh_job(partitions)
    raw_assets = build_raw_assets(partitions)
    return Definitions(
        assets=[
            *raw_assets,
            *build_bookkeeping_specs(raw_assets),
            build_dbt_assets(partitions),
            serving_warehouse,
        ],
        asset_checks=build_freshness_checks(settings.business_timezone),
        jobs=[refresh_job],
        schedules=[build_daily_schedule(refresh_job, settings.business_timezone)],
        sensors=[build_landing_sensor(refresh_job)],
        resources={
            "siyu": settings,
            "dbt": DbtCliResource(project_dir=siyu_dbt_project, dbt_executable=dbt_executable()),
        },
    )


@definitions
def defs() -> Definitions:
    """What `dagster dev -m orchestration.definitions` loads (see `siyu ui`)."""
    return build_definitions(resolve_settings(os.environ))
