"""Siyu's settings: one typed object, built once per process, handed to every consumer.

`resolve_settings` applies the precedence of `spec/operations.md` — command-line options, then
`SIYU_*` environment variables, then defaults — and returns a `SiyuSettings`, the Dagster
resource every asset, check, sensor and the runner receive. Nothing here reads the environment
at import time, and nothing writes into it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
from dagster import ConfigurableResource, EnvVar
from pydantic import Field
from pydantic.json_schema import JsonDict

from connectors.wechat.config import DEFAULT_API_BASE
from expectations.limits import GateLimits

DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_WAREHOUSE_PATH = "data/warehouse/siyu.duckdb"
# The business time zone: "day d" of a timestamp is its local date here (spec/sources.md). The
# one definition in Python; the dbt project's own default is checked against it by a test.
DEFAULT_TIMEZONE = "Asia/Shanghai"
# DuckDB 1.1+ clients (what BI tools bundle) can open files written in this storage version.
DEFAULT_STORAGE_VERSION = "v1.1.0"
DEFAULT_MAX_QUARANTINE_SHARE = 0.05
DEFAULT_MAX_VOLUME_DROP = 0.5
# DuckDB's memory for the pipeline's connections (the loader's, and dbt's): beyond it, DuckDB
# spills to a temporary folder beside the working database, so a refresh's memory does not
# grow with the history it loads. A process then holds this and Python's own (~0.5 GiB).
DEFAULT_DUCKDB_MEMORY_LIMIT = "2GB"

ENV_LANDING_DIR = "SIYU_LANDING_DIR"
ENV_WAREHOUSE_PATH = "SIYU_WAREHOUSE_PATH"
ENV_WORK_DB = "SIYU_WORK_DB"
ENV_LOGS_DIR = "SIYU_LOGS_DIR"
ENV_TIMEZONE = "SIYU_TIMEZONE"
ENV_PII_SALT = "SIYU_PII_SALT"
ENV_STORAGE_VERSION = "SIYU_STORAGE_VERSION"
ENV_MAX_QUARANTINE_SHARE = "SIYU_MAX_QUARANTINE_SHARE"
ENV_MAX_VOLUME_DROP = "SIYU_MAX_VOLUME_DROP"
ENV_VOLUME_BLOCKING = "SIYU_VOLUME_BLOCKING"
ENV_DUCKDB_MEMORY_LIMIT = "SIYU_DUCKDB_MEMORY_LIMIT"
ENV_DAGSTER_HOME = "DAGSTER_HOME"
ENV_SECRETS_DIR = "SIYU_SECRETS_DIR"
ENV_WECHAT_API_BASE = "SIYU_WECHAT_API_BASE"

# a resource field Dagster masks in the UI even when it holds a literal value
SECRET_FIELD: JsonDict = {"dagster__is_secret": True}

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class SettingsError(ValueError):
    """A setting has a value Siyu cannot use; the message names the setting."""


class SiyuSettings(ConfigurableResource):
    """Where the landing folder, the databases and the logs are, and the business settings.

    Paths are absolute. `pii_salt` comes from the environment only: `resolve_settings` gives it
    as an `EnvVar`, so the UI shows the variable's name, never the salt.
    """

    landing_dir: str
    warehouse_path: str
    work_db_path: str
    logs_dir: str
    dagster_home: str
    secrets_dir: str = ""  # the WeChat token cache and fetch state (data/secrets)
    wechat_api_base: str = DEFAULT_API_BASE
    business_timezone: str = DEFAULT_TIMEZONE
    pii_salt: str = Field(default="", json_schema_extra=SECRET_FIELD)
    storage_version: str = DEFAULT_STORAGE_VERSION
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE
    max_volume_drop: float = DEFAULT_MAX_VOLUME_DROP
    volume_blocking: bool = False
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT

    def gate_limits(self) -> GateLimits:
        return GateLimits(
            max_quarantine_share=self.max_quarantine_share,
            max_volume_drop=self.max_volume_drop,
            volume_blocking=self.volume_blocking,
        )

    @property
    def refresh_log_path(self) -> Path:
        """Dagster's and dbt's full output of `siyu refresh`, every trace included."""
        return Path(self.logs_dir) / "refresh.log"

    @property
    def secrets_path(self) -> Path:
        """The WeChat token cache and fetch state; `secrets/` beside the warehouse folder unless
        set (a settings object built by hand without it uses that default too)."""
        return (
            Path(self.secrets_dir)
            if self.secrets_dir
            else data_dir_of(self.warehouse_path) / "secrets"
        )

    def connect_work_db(self) -> duckdb.DuckDBPyConnection:
        """A read-write connection to the working database (only the pipeline opens it)."""
        Path(self.work_db_path).parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(self.work_db_path, config=self.duckdb_config())

    def duckdb_config(self) -> dict[str, str | bool | int | float | list[str]]:
        """DuckDB settings of every connection the pipeline opens."""
        return {"memory_limit": self.duckdb_memory_limit}


def default_work_db_path(warehouse_path: str) -> str:
    """`<serving file name without .duckdb>.work.duckdb` in the same folder."""
    path = Path(warehouse_path)
    stem = path.name[: -len(".duckdb")] if path.name.endswith(".duckdb") else path.name
    return str(path.with_name(f"{stem}.work.duckdb"))


def data_dir_of(warehouse_path: str) -> Path:
    """The folder that holds the warehouse folder (`data/` by default): logs, Dagster's home
    and the WeChat token cache live beside the warehouse folder in it."""
    return Path(warehouse_path).resolve().parent.parent


def checked_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"the business time zone {name!r} is not an IANA time zone (e.g. Asia/Shanghai)"
        ) from None
    return name


def _fraction(environment: Mapping[str, str], name: str, default: float) -> float:
    text = environment.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise SettingsError(f"{name} must be a fraction between 0 and 1 (e.g. 0.05), not {text!r}")
    return value


_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def _memory_limit(environment: Mapping[str, str]) -> str:
    text = environment.get(ENV_DUCKDB_MEMORY_LIMIT, "").strip()
    if not text:
        return DEFAULT_DUCKDB_MEMORY_LIMIT
    if not _MEMORY.match(text):
        raise SettingsError(
            f"{ENV_DUCKDB_MEMORY_LIMIT} must be an amount of memory such as 2GB or 512MiB, "
            f"not {text!r}"
        )
    return text


def _flag(environment: Mapping[str, str], name: str) -> bool:
    text = environment.get(name, "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, not {environment[name]!r}")


def resolve_settings(
    environment: Mapping[str, str],
    landing_dir: str | None = None,
    warehouse_path: str | None = None,
    work_db_path: str | None = None,
    business_timezone: str | None = None,
) -> SiyuSettings:
    """Options first, then `SIYU_*` environment variables, then defaults; paths made absolute.
    Raises `SettingsError` naming the setting when a value is unusable."""
    landing = landing_dir or environment.get(ENV_LANDING_DIR) or DEFAULT_LANDING_DIR
    warehouse = warehouse_path or environment.get(ENV_WAREHOUSE_PATH) or DEFAULT_WAREHOUSE_PATH
    work = work_db_path or environment.get(ENV_WORK_DB) or default_work_db_path(warehouse)
    data_dir = data_dir_of(warehouse)
    logs = environment.get(ENV_LOGS_DIR) or str(data_dir / "logs")
    home = environment.get(ENV_DAGSTER_HOME) or str(data_dir / "dagster_home")
    secrets = environment.get(ENV_SECRETS_DIR) or str(data_dir / "secrets")
    timezone = business_timezone or environment.get(ENV_TIMEZONE) or DEFAULT_TIMEZONE
    return SiyuSettings(
        landing_dir=str(Path(landing).resolve()),
        warehouse_path=str(Path(warehouse).resolve()),
        work_db_path=str(Path(work).resolve()),
        logs_dir=str(Path(logs).resolve()),
        dagster_home=str(Path(home).resolve()),
        secrets_dir=str(Path(secrets).resolve()),
        wechat_api_base=environment.get(ENV_WECHAT_API_BASE) or DEFAULT_API_BASE,
        business_timezone=checked_timezone(timezone),
        # read by Dagster when a run starts; the settings never hold the salt itself
        pii_salt=EnvVar(ENV_PII_SALT) if environment.get(ENV_PII_SALT) else "",
        storage_version=environment.get(ENV_STORAGE_VERSION) or DEFAULT_STORAGE_VERSION,
        max_quarantine_share=_fraction(
            environment, ENV_MAX_QUARANTINE_SHARE, DEFAULT_MAX_QUARANTINE_SHARE
        ),
        max_volume_drop=_fraction(environment, ENV_MAX_VOLUME_DROP, DEFAULT_MAX_VOLUME_DROP),
        volume_blocking=_flag(environment, ENV_VOLUME_BLOCKING),
        duckdb_memory_limit=_memory_limit(environment),
    )
