"""Run settings: where things are, and how the pipeline interprets time and personal data.

`SiyuSettings` is the Dagster resource; `resolve_settings` applies the CLI's precedence
(options, then `SIYU_*` environment variables, then defaults). Nothing here reads the
environment at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from expectations.suites import GateLimits

DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_WAREHOUSE_PATH = "data/warehouse/siyu.duckdb"
DEFAULT_TIMEZONE = "Asia/Shanghai"
# DuckDB 1.1+ clients (what BI tools bundle) can open files written in this storage version.
DEFAULT_STORAGE_VERSION = "v1.1.0"

ENV_LANDING_DIR = "SIYU_LANDING_DIR"
ENV_WAREHOUSE_PATH = "SIYU_WAREHOUSE_PATH"
ENV_WORK_DB = "SIYU_WORK_DB"
ENV_TIMEZONE = "SIYU_TIMEZONE"
ENV_PII_SALT = "SIYU_PII_SALT"
ENV_STORAGE_VERSION = "SIYU_STORAGE_VERSION"
ENV_DAGSTER_HOME = "DAGSTER_HOME"
ENV_MAX_QUARANTINE_SHARE = "SIYU_MAX_QUARANTINE_SHARE"
ENV_MAX_VOLUME_DROP = "SIYU_MAX_VOLUME_DROP"
ENV_VOLUME_BLOCKING = "SIYU_VOLUME_BLOCKING"
DEFAULT_MAX_QUARANTINE_SHARE = "0.05"
DEFAULT_MAX_VOLUME_DROP = "0.5"


def default_work_db_path(warehouse_path: str) -> str:
    """`<serving file name without .duckdb>.work.duckdb` in the same folder."""
    path = Path(warehouse_path)
    stem = path.name[: -len(".duckdb")] if path.name.endswith(".duckdb") else path.name
    return str(path.with_name(f"{stem}.work.duckdb"))


@dataclass(frozen=True)
class RunSettings:
    """Resolved settings of one CLI invocation."""

    landing_dir: str
    warehouse_path: str
    work_db_path: str
    business_timezone: str
    pii_salt: str
    storage_version: str
    max_quarantine_share: str = DEFAULT_MAX_QUARANTINE_SHARE
    max_volume_drop: str = DEFAULT_MAX_VOLUME_DROP
    volume_blocking: str = "false"

    def as_environment(self) -> dict[str, str]:
        """The `SIYU_*` variables that Dagster's `EnvVar`s read."""
        return {
            ENV_LANDING_DIR: self.landing_dir,
            ENV_WAREHOUSE_PATH: self.warehouse_path,
            ENV_WORK_DB: self.work_db_path,
            ENV_TIMEZONE: self.business_timezone,
            ENV_PII_SALT: self.pii_salt,
            ENV_STORAGE_VERSION: self.storage_version,
            ENV_MAX_QUARANTINE_SHARE: self.max_quarantine_share,
            ENV_MAX_VOLUME_DROP: self.max_volume_drop,
            ENV_VOLUME_BLOCKING: self.volume_blocking,
        }


def resolve_settings(
    environment: Mapping[str, str],
    landing_dir: str | None = None,
    warehouse_path: str | None = None,
    work_db_path: str | None = None,
    business_timezone: str | None = None,
) -> RunSettings:
    """Options first, then environment variables, then defaults; paths made absolute."""
    landing = landing_dir or environment.get(ENV_LANDING_DIR) or DEFAULT_LANDING_DIR
    warehouse = warehouse_path or environment.get(ENV_WAREHOUSE_PATH) or DEFAULT_WAREHOUSE_PATH
    work = work_db_path or environment.get(ENV_WORK_DB) or default_work_db_path(warehouse)
    return RunSettings(
        landing_dir=str(Path(landing).resolve()),
        warehouse_path=str(Path(warehouse).resolve()),
        work_db_path=str(Path(work).resolve()),
        business_timezone=business_timezone or environment.get(ENV_TIMEZONE) or DEFAULT_TIMEZONE,
        pii_salt=environment.get(ENV_PII_SALT, ""),
        storage_version=environment.get(ENV_STORAGE_VERSION) or DEFAULT_STORAGE_VERSION,
        max_quarantine_share=environment.get(ENV_MAX_QUARANTINE_SHARE)
        or DEFAULT_MAX_QUARANTINE_SHARE,
        max_volume_drop=environment.get(ENV_MAX_VOLUME_DROP) or DEFAULT_MAX_VOLUME_DROP,
        volume_blocking=environment.get(ENV_VOLUME_BLOCKING) or "false",
    )


class SiyuSettings(ConfigurableResource):
    """Where the landing folder and the databases are, and the business settings."""

    landing_dir: str
    warehouse_path: str
    work_db_path: str
    business_timezone: str = DEFAULT_TIMEZONE
    pii_salt: str = ""
    storage_version: str = DEFAULT_STORAGE_VERSION
    # gate limits, as text so they can come from environment variables
    max_quarantine_share: str = DEFAULT_MAX_QUARANTINE_SHARE
    max_volume_drop: str = DEFAULT_MAX_VOLUME_DROP
    volume_blocking: str = "false"

    def gate_limits(self) -> GateLimits:
        return GateLimits(
            max_quarantine_share=float(self.max_quarantine_share),
            max_volume_drop=float(self.max_volume_drop),
            volume_blocking=self.volume_blocking.strip().lower() in ("1", "true", "yes"),
        )

    def connect_work_db(self) -> duckdb.DuckDBPyConnection:
        """A read-write connection to the working database (only the pipeline opens it)."""
        Path(self.work_db_path).parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(self.work_db_path)
