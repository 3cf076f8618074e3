"""The one entry point of Siyu's Dagster code location.

`build_definitions(settings, wechat)` builds every asset, check, job, schedule and sensor for one
set of settings: the partitions, the schedule and the freshness checks follow its business time
zone; the refresh job fetches from WeChat first when `wechat` (the credentials resource) is
given. `siyu refresh` calls it with the settings of its options; `dagster dev` (`siyu ui`) loads
`defs`, which resolves both from the environment when the code location loads, not at import.
"""

from __future__ import annotations

import os

from dagster import Definitions, definitions

from orchestration.fetch.assets import (
    WeChatCredentials,
    build_fetch_assets,
    wechat_credentials_resource,
)
from orchestration.jobs import build_refresh_job
from orchestration.landing.assets import build_bookkeeping_specs, build_raw_assets
from orchestration.operations.freshness import build_freshness_checks
from orchestration.operations.schedules import build_daily_schedule
from orchestration.operations.sensors import build_landing_sensor
from orchestration.partitions import daily_partitions
from orchestration.serving.assets import kpi_report, serving_warehouse
from orchestration.settings import SiyuSettings, resolve_settings
from orchestration.transform.assets import build_dbt_assets
from orchestration.transform.project import (
    SiyuDbtCliResource,
    dbt_executable,
    prepared_dbt_project,
    siyu_dbt_project,
)


def build_definitions(
    settings: SiyuSettings, wechat: WeChatCredentials | None = None
) -> Definitions:
    with prepared_dbt_project():
        dbt_assets = build_dbt_assets()
    partitions = daily_partitions(settings.business_timezone)
    refresh_job = build_refresh_job(partitions, fetch_from_wechat=wechat is not None)
    raw_assets = build_raw_assets(partitions)
    return Definitions(
        assets=[
            build_fetch_assets(partitions),
            *raw_assets,
            *build_bookkeeping_specs(raw_assets),
            dbt_assets,
            serving_warehouse,
            kpi_report,
        ],
        asset_checks=build_freshness_checks(settings.business_timezone),
        jobs=[refresh_job],
        schedules=[build_daily_schedule(refresh_job, settings.business_timezone)],
        sensors=[build_landing_sensor(refresh_job)],
        resources={
            "siyu": settings,
            "wechat": wechat or WeChatCredentials(),
            "dbt": SiyuDbtCliResource(
                project_dir=str(siyu_dbt_project.project_dir), dbt_executable=dbt_executable()
            ),
        },
    )


@definitions
def defs() -> Definitions:
    """What `dagster dev -m orchestration.definitions` loads (see `siyu ui`)."""
    return build_definitions(resolve_settings(os.environ), wechat_credentials_resource(os.environ))
