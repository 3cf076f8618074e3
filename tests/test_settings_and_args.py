"""Small typed builders: settings precedence, dbt CLI arguments, run config."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import EnvVar

from ingestion.schemas import SOURCES
from ingestion.working_database import (
    ensure_working_schema,
    needs_full_refresh,
    record_complete_build,
)
from orchestration.runner import refresh_run_config, refresh_window
from orchestration.settings import (
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    DEFAULT_TIMEZONE,
    SettingsError,
    default_work_db_path,
    resolve_settings,
)
from orchestration.transform.cli_args import DbtVars, dbt_build_args, dbt_target_path
from orchestration.transform.project import project_fingerprint

pytestmark = pytest.mark.unit


def test_settings_precedence_option_then_environment_then_default(tmp_path: Path) -> None:
    env = {"SIYU_LANDING_DIR": str(tmp_path / "env_landing"), "SIYU_TIMEZONE": "Asia/Tokyo"}
    settings = resolve_settings(env, landing_dir=str(tmp_path / "option_landing"))
    assert settings.landing_dir == str(tmp_path / "option_landing")
    assert settings.business_timezone == "Asia/Tokyo"
    assert settings.warehouse_path.endswith("data/warehouse/siyu.duckdb")
    assert settings.work_db_path.endswith("data/warehouse/siyu.work.duckdb")
    assert settings.storage_version == "v1.1.0"
    assert settings.pii_salt == ""
    assert settings.logs_dir.endswith("data/logs")
    assert settings.dagster_home.endswith("data/dagster_home")
    # numbers and flags arrive typed
    assert settings.max_quarantine_share == 0.05 and settings.volume_blocking is False
    typed = resolve_settings(
        {"SIYU_MAX_QUARANTINE_SHARE": "0.2", "SIYU_VOLUME_BLOCKING": "yes", "SIYU_PII_SALT": "s"}
    )
    assert typed.max_quarantine_share == 0.2 and typed.volume_blocking is True
    assert settings.duckdb_memory_limit == "2GB"
    assert resolve_settings({"SIYU_DUCKDB_MEMORY_LIMIT": "3 GiB"}).duckdb_memory_limit == "3 GiB"
    # the salt is read by Dagster when a run starts, so the UI shows the variable, not the salt
    assert isinstance(typed.pii_salt, EnvVar) and typed.pii_salt.env_var_name == "SIYU_PII_SALT"


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"SIYU_TIMEZONE": "Mars/Olympus"}, "not an IANA time zone"),
        ({"SIYU_MAX_QUARANTINE_SHARE": "five"}, "SIYU_MAX_QUARANTINE_SHARE must be a fraction"),
        ({"SIYU_MAX_VOLUME_DROP": "1.5"}, "SIYU_MAX_VOLUME_DROP must be a fraction"),
        ({"SIYU_VOLUME_BLOCKING": "maybe"}, "SIYU_VOLUME_BLOCKING must be true or false"),
        ({"SIYU_DUCKDB_MEMORY_LIMIT": "lots"}, "SIYU_DUCKDB_MEMORY_LIMIT must be an amount"),
    ],
)
def test_unusable_settings_are_named(environment: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        resolve_settings(environment)


def test_default_work_db_path() -> None:
    assert default_work_db_path("/w/siyu.duckdb") == "/w/siyu.work.duckdb"
    assert default_work_db_path("/w/serving") == "/w/serving.work.duckdb"


def test_dbt_build_args() -> None:
    args = dbt_build_args(DbtVars("/tmp/w.duckdb", "Asia/Shanghai", DEFAULT_DUCKDB_MEMORY_LIMIT))
    assert args[:3] == ["build", "--indirect-selection", "cautious"]
    assert json.loads(args[args.index("--vars") + 1]) == {
        "business_timezone": "Asia/Shanghai",
        "memory_limit": "2GB",
        "work_db_path": "/tmp/w.duckdb",
    }
    assert args[args.index("--log-level-file") + 1] == "info"
    assert "--full-refresh" in dbt_build_args(DbtVars("/w", "UTC", "1GB"), full_refresh=True)
    # one --exclude with one value: dagster-dbt moves `--exclude <value>` behind its selection,
    # so a second value would be read as a positional argument
    assert args.count("--exclude") == 1 and args[args.index("--exclude") + 1] == "test_type:unit"
    apart = dbt_build_args(DbtVars("/w", "UTC", "1GB"), tests_apart=True)
    assert apart.count("--exclude") == 1
    assert apart[apart.index("--exclude") + 1].split() == [
        "test_type:unit",
        "resource_type:test",
        "resource_type:seed",
        "config.materialized:view",
    ]


def test_one_dbt_target_folder_per_working_database(tmp_path: Path) -> None:
    first = dbt_target_path(tmp_path, "data/warehouse/siyu.work.duckdb")
    assert first == dbt_target_path(tmp_path, "data/warehouse/siyu.work.duckdb")
    assert first != dbt_target_path(tmp_path, "/elsewhere/siyu.work.duckdb")
    assert first.parent == tmp_path and first.name.startswith("build-")


def test_refresh_run_config_covers_every_raw_asset() -> None:
    config = refresh_run_config(force_reload=True, full_refresh=True)
    assert set(config["ops"]) == {f"raw__{s.name}" for s in SOURCES} | {"siyu_dbt_models"}
    assert config["ops"]["raw__mall_orders"]["config"] == {"force_reload": True}
    assert config["ops"]["siyu_dbt_models"]["config"] == {"full_refresh": True}


def test_a_changed_dbt_project_forces_a_full_refresh(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: siyu\n")
    model = project / "models" / "int_orders_aggregated.sql"
    model.write_text("select 1 as date_day\n")
    fingerprint = project_fingerprint(project)
    (project / "README.md").write_text("docs do not change tables\n")
    assert project_fingerprint(project) == fingerprint
    model.write_text("select 2 as date_day\n")
    assert project_fingerprint(project) != fingerprint

    with duckdb.connect(":memory:") as con:
        assert needs_full_refresh(con, fingerprint)  # nothing built yet
        ensure_working_schema(con)
        con.execute(
            "insert into raw.pending_changes (change_kind, source, entity_key, noted_at) "
            "values ('entity', 'mall_orders', 'O1', ?)",
            [datetime(2026, 11, 2, tzinfo=UTC)],
        )
        applied = record_complete_build(
            con, fingerprint, datetime(2026, 11, 3, tzinfo=UTC), full_refresh=True
        )
        assert applied == 1
        assert con.execute("select count(*) from raw.pending_changes").fetchone()[0] == 0
        assert not needs_full_refresh(con, fingerprint)
        assert needs_full_refresh(con, project_fingerprint(project))


def test_refresh_window(tmp_path: Path) -> None:
    (tmp_path / "mall" / "orders").mkdir(parents=True)
    for day in ("2026-11-01", "2026-11-03"):
        (tmp_path / "mall" / "orders" / f"{day}.csv").write_text("x")
    yesterday = date(2026, 11, 21)
    assert refresh_window(tmp_path, None, None, yesterday) == (
        date(2026, 11, 1),
        date(2026, 11, 3),
    )
    assert refresh_window(tmp_path, date(2026, 11, 2), date(2026, 11, 30), yesterday) == (
        date(2026, 11, 2),
        yesterday,
    )
    with pytest.raises(ValueError, match="before the first partition"):
        refresh_window(tmp_path, date(2020, 1, 1), date(2020, 1, 2), yesterday)
    with pytest.raises(ValueError, match="no daily file"):
        refresh_window(tmp_path / "mall", None, None, yesterday)


def test_the_dbt_projects_own_time_zone_default_is_the_settings_default() -> None:
    # dbt run by hand (parse, lint) uses the project's default; the pipeline always passes the
    # settings' zone as a var. The two defaults must be the same zone.
    import yaml

    project = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"
    assert yaml.safe_load(project.read_text())["vars"]["business_timezone"] == DEFAULT_TIMEZONE


def test_the_dbt_profiles_memory_limit_default_is_the_settings_default() -> None:
    profiles = Path(__file__).resolve().parent.parent / "dbt_project" / "profiles.yml"
    text = profiles.read_text(encoding="utf-8")
    assert f"var('memory_limit', '{DEFAULT_DUCKDB_MEMORY_LIMIT}')" in text
