"""The one entry point of Siyu's Dagster code location."""

from __future__ import annotations

from dagster import Definitions, EnvVar
from dagster_dbt import DbtCliResource

from orchestration.jobs import refresh_job
from orchestration.landing.assets import raw_assets
from orchestration.operations.freshness import freshness_checks
from orchestration.operations.schedules import daily_refresh_schedule
from orchestration.operations.sensors import landing_sensor
from orchestration.serving.assets import serving_warehouse
from orchestration.settings import (
    ENV_LANDING_DIR,
    ENV_MAX_QUARANTINE_SHARE,
    ENV_MAX_VOLUME_DROP,
    ENV_PII_SALT,
    ENV_STORAGE_VERSION,
    ENV_TIMEZONE,
    ENV_VOLUME_BLOCKING,
    ENV_WAREHOUSE_PATH,
    ENV_WORK_DB,
    SiyuSettings,
)
from orchestration.transform.assets import siyu_dbt_models
from orchestration.transform.project import dbt_executable, siyu_dbt_project

defs = Definitions(
    assets=[*raw_assets, siyu_dbt_models, serving_warehouse],
    asset_checks=freshness_checks,
    jobs=[refresh_job],
    schedules=[daily_refresh_schedule],
    sensors=[landing_sensor],
    resources={
        "siyu": SiyuSettings(
            landing_dir=EnvVar(ENV_LANDING_DIR),
            warehouse_path=EnvVar(ENV_WAREHOUSE_PATH),
            work_db_path=EnvVar(ENV_WORK_DB),
            business_timezone=EnvVar(ENV_TIMEZONE),
            pii_salt=EnvVar(ENV_PII_SALT),
            storage_version=EnvVar(ENV_STORAGE_VERSION),
            max_quarantine_share=EnvVar(ENV_MAX_QUARANTINE_SHARE),
            max_volume_drop=EnvVar(ENV_MAX_VOLUME_DROP),
            volume_blocking=EnvVar(ENV_VOLUME_BLOCKING),
        ),
        "dbt": DbtCliResource(project_dir=siyu_dbt_project, dbt_executable=dbt_executable()),
    },
)
