"""`siyu ui` starts the Dagster UI with this code location; its GraphQL API shows the graph."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from orchestration.partitions import RANGE_END_TAG, RANGE_START_TAG

pytestmark = pytest.mark.ui

QUERY = """
{
  assetNodes {
    assetKey { path }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
  }
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        schedules { name cronSchedule executionTimezone }
        sensors { name }
        allTopLevelResourceDetails { name configuredValues { key value type } }
        pipelines { name }
      }
    }
  }
}
"""


APPID = "wxUIAPPID5d8e1f"
SECRET = "ui-secret-7Y2M-never-shown"
SALT = "ui-salt-3K9Q-never-shown"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""

JOB_ASSETS = """
{
  assetNodes(pipeline: {
    pipelineName: "siyu_refresh"
    repositoryName: "__repository__"
    repositoryLocationName: "orchestration.definitions"
  }) { assetKey { path } }
}
"""

BACKFILL_RUNS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { runs(limit: 10) { tags { key value } } }
  }
}
"""


def backfill_runs_from_the_ui(port: int, days: list[str]) -> list[dict]:
    """Launch a backfill of the `siyu_refresh` job's partitions `days` with the parameters the
    UI's launch dialog sends for a job (its assets, the partition names, the job's partition
    set), and return the runs the daemon makes of it."""
    asset_keys = [node["assetKey"] for node in graphql(port, JOB_ASSETS)["assetNodes"]]
    launched = graphql(
        port,
        LAUNCH_BACKFILL,
        {
            "params": {
                "selector": {
                    "partitionSetName": "siyu_refresh_partition_set",
                    "repositorySelector": {
                        "repositoryName": "__repository__",
                        "repositoryLocationName": "orchestration.definitions",
                    },
                },
                "partitionNames": days,
                "assetSelection": asset_keys,
                "fromFailure": False,
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = graphql(port, BACKFILL_RUNS, {"id": launched["backfillId"]})[
            "partitionBackfillOrError"
        ]["runs"]
        if runs:
            time.sleep(5)  # a second run would follow at once
            return graphql(port, BACKFILL_RUNS, {"id": launched["backfillId"]})[
                "partitionBackfillOrError"
            ]["runs"]
        time.sleep(1)
    raise AssertionError("the daemon made no run of the backfill within 2 minutes")


def test_ui_serves_the_asset_graph_checks_schedule_and_sensor(tmp_path: Path) -> None:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIYU_")}
    environment |= {
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        # with credentials, the refresh job fetches from WeChat first; the UI must never show
        # the appid, the secret or the salt
        "SIYU_WECHAT_APPID": APPID,
        "SIYU_WECHAT_APPSECRET": SECRET,
        "SIYU_PII_SALT": SALT,
    }
    log = open(tmp_path / "ui.log", "w")  # closed below, after the process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "ui",
            "--port",
            str(port),
            "--landing",
            str(tmp_path / "landing"),
            "--warehouse",
            str(tmp_path / "w" / "s.duckdb"),
        ],
        env=environment,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        data = None
        while time.monotonic() < deadline and data is None:
            try:
                data = graphql(port, QUERY)
                if not data.get("assetNodes"):
                    data = None
                    time.sleep(2)
            except OSError:
                time.sleep(2)
        assert data is not None, "the Dagster UI did not answer within 3 minutes"
        # a backfill of a date range launched from the UI is one run over the range
        runs = backfill_runs_from_the_ui(port, ["2025-01-01", "2025-01-02", "2025-01-03"])
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
    assert len(runs) == 1, runs
    tags = {tag["key"]: tag["value"] for tag in runs[0]["tags"]}
    assert (tags[RANGE_START_TAG], tags[RANGE_END_TAG]) == ("2025-01-01", "2025-01-03")
    # `siyu ui` shows Dagster's own lines, not its advice to use another package's command
    assert "superseded" not in (tmp_path / "ui.log").read_text()
    keys = {"/".join(node["assetKey"]["path"]) for node in data["assetNodes"]}
    assert {"raw/mall_orders", "marts/kpi_scorecard", "serving/siyu_warehouse"} <= keys
    checks = {
        ("/".join(node["assetKey"]["path"]), check["name"])
        for node in data["assetNodes"]
        for check in (node["assetChecksOrError"] or {}).get("checks", [])
    }
    assert ("raw/mall_orders", "quality_gate") in checks
    assert ("raw/mall_orders", "freshness") in checks
    assert ("marts/average_order_value", "assert_gmv_reconciles_with_paid_orders") in checks
    repository = data["repositoriesOrError"]["nodes"][0]
    assert repository["schedules"] == [
        {
            "name": "daily_refresh",
            "cronSchedule": "30 8 * * *",
            "executionTimezone": "Asia/Shanghai",
        }
    ]
    assert [sensor["name"] for sensor in repository["sensors"]] == ["landing_sensor"]
    assert {"fetch/wechat_oa_article_detail", "fetch/wechat_oa_user_summary"} <= keys
    resources = {
        resource["name"]: {value["key"]: value for value in resource["configuredValues"]}
        for resource in repository["allTopLevelResourceDetails"]
    }
    assert resources["wechat"]["appsecret"] == {
        "key": "appsecret",
        "value": "SIYU_WECHAT_APPSECRET",
        "type": "ENV_VAR",
    }
    assert resources["siyu"]["pii_salt"]["type"] == "ENV_VAR"
    shown = json.dumps(data)
    for secret in (APPID, SECRET, SALT):
        assert secret not in shown
    assert (tmp_path / "dagster_home" / "dagster.yaml").read_text().count("limit: 1") == 1
