"""The WeChat fetch as Dagster assets (group `fetch`), upstream of the WeChat raw assets.

One multi-asset lands the four WeChat sources of a partition range in as few calls as the
spans allow (a single-run backfill). The credentials come from a resource whose fields are
`EnvVar`s, so the UI and the run config show the variables' names, never their values. Without
credentials the refresh job leaves these assets out (see `build_refresh_job`); materialized by
hand they are skipped with the same message.
"""

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    BackfillPolicy,
    ConfigurableResource,
    DailyPartitionsDefinition,
    EnvVar,
    MaterializeResult,
    multi_asset,
)
from pydantic import Field

from connectors.wechat.config import (
    ENV_APPID,
    ENV_APPSECRET,
    NO_CREDENTIALS,
    Credentials,
    credentials_from_environment,
)
from connectors.wechat.fetch import FetchReport, fetch_wechat
from ingestion.schemas import SOURCES, SourceSchema
from orchestration.jobs import FETCH_GROUP
from orchestration.partitions import last_complete_day, window_dates
from orchestration.settings import SECRET_FIELD, SiyuSettings

FETCH_ASSETS_NAME = "wechat_fetch"
FETCH_COMPLETE = "fetch_complete"
WECHAT_SOURCES: tuple[SourceSchema, ...] = tuple(s for s in SOURCES if s.wechat_api)


class WeChatCredentials(ConfigurableResource):
    """The Official Account's AppID and AppSecret (SIYU_WECHAT_APPID, SIYU_WECHAT_APPSECRET)."""

    # EnvVars in practice; marked secret, so even a literal value is masked in the UI
    appid: str = Field(default="", json_schema_extra=SECRET_FIELD)
    appsecret: str = Field(default="", json_schema_extra=SECRET_FIELD)

    def credentials(self) -> Credentials | None:
        if not self.appid or not self.appsecret:
            return None
        return Credentials(self.appid, self.appsecret)


def wechat_credentials_resource(environment: Mapping[str, str]) -> WeChatCredentials | None:
    """The resource when both variables are set: EnvVars, read when a run starts."""
    if credentials_from_environment(environment) is None:
        return None
    return WeChatCredentials(appid=EnvVar(ENV_APPID), appsecret=EnvVar(ENV_APPSECRET))


def fetch_key(schema: SourceSchema) -> AssetKey:
    return AssetKey([FETCH_GROUP, schema.name])


def _results(report: FetchReport) -> Iterator[MaterializeResult | AssetCheckResult]:
    summary = "\n".join(report.lines())
    for schema in WECHAT_SOURCES:
        counts = report.files.get(schema.name)
        problems = ([report.stopped] if report.stopped else []) + report.failures_by_source.get(
            schema.name, []
        )
        yield MaterializeResult(
            asset_key=fetch_key(schema),
            metadata={
                "files": counts.describe() if counts else "no file",
                "new": counts.new if counts else 0,
                "changed": counts.changed if counts else 0,
                "unchanged": counts.unchanged if counts else 0,
                "calls_in_run": report.calls,
                "retired": schema.wechat_api in report.retired,
                "summary": summary,
            },
        )
        yield AssetCheckResult(
            asset_key=fetch_key(schema),
            check_name=FETCH_COMPLETE,
            passed=not problems,
            severity=AssetCheckSeverity.ERROR,
            description="; ".join(problems) or "every planned call succeeded",
        )


def build_fetch_assets(partitions_def: DailyPartitionsDefinition) -> AssetsDefinition:
    @multi_asset(
        name=FETCH_ASSETS_NAME,
        specs=[
            AssetSpec(
                fetch_key(schema),
                group_name=FETCH_GROUP,
                description=(
                    f"{schema.wechat_api} responses landed as `{schema.path_glob}` by "
                    "`siyu fetch wechat` (the fetch of business day D runs on the morning of "
                    "D + 1)."
                ),
                kinds={"wechat"},
                skippable=True,
            )
            for schema in WECHAT_SOURCES
        ],
        check_specs=[
            AssetCheckSpec(
                FETCH_COMPLETE,
                asset=fetch_key(schema),
                blocking=False,
                description="Every planned call succeeded (not blocking: the refresh goes on "
                "with the files in the landing folder).",
            )
            for schema in WECHAT_SOURCES
        ],
        partitions_def=partitions_def,
        backfill_policy=BackfillPolicy.single_run(),
        can_subset=False,
    )
    def wechat_fetch(
        context: AssetExecutionContext, siyu: SiyuSettings, wechat: WeChatCredentials
    ) -> Iterator[MaterializeResult | AssetCheckResult]:
        credentials = wechat.credentials()
        if credentials is None:
            # skipped: no materialization; the checks say why (a warning, not a failure)
            context.log.warning(f"WeChat fetch skipped: {NO_CREDENTIALS}")
            for schema in WECHAT_SOURCES:
                yield AssetCheckResult(
                    asset_key=fetch_key(schema),
                    check_name=FETCH_COMPLETE,
                    passed=False,
                    severity=AssetCheckSeverity.WARN,
                    description=f"skipped: {NO_CREDENTIALS}",
                )
            return
        start, end = window_dates(context.partition_time_window)
        report = fetch_wechat(
            landing_dir=Path(siyu.landing_dir),
            logs_dir=Path(siyu.logs_dir),
            secrets_dir=siyu.secrets_path,
            api_base=siyu.wechat_api_base,
            credentials=credentials,
            start=start,
            end=end,
            yesterday=last_complete_day(datetime.now(tz=UTC), siyu.business_timezone),
        )
        for line in report.lines():
            context.log.info(line)
        for problem in ([report.stopped] if report.stopped else []) + report.failures:
            context.log.error(f"WeChat fetch: {problem}")
        yield from _results(report)

    return wechat_fetch
