"""The semantic layer (dbt MetricFlow) queried against the published serving file (`siyu metrics`).

The semantic models and metrics live in the dbt project (`models/semantic/`); `dbt parse`
writes them to `target/semantic_manifest.json`. MetricFlow turns a request (metrics, a time
grain, a channel) into DuckDB SQL, which runs on an in-memory database with the serving file
attached read-only: dbt-duckdb would open its `path` read-write and lock every reader out.
A query never takes the refresh's writer lock; a refresh that swaps the file meanwhile leaves
it reading the file it attached (the swap is an atomic rename), and the next query attaches
the new one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import polars as pl
from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow.sql.render.sql_plan_renderer import SqlPlanRenderer
from metricflow_semantic_interfaces.implementations.node_relation import PydanticNodeRelation
from metricflow_semantic_interfaces.implementations.semantic_manifest import (
    PydanticSemanticManifest,
)
from metricflow_semantics.errors.error_classes import MetricFlowException
from metricflow_semantics.model.dbt_manifest_parser import (
    parse_manifest_from_dbt_generated_manifest,
)
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup
from metricflow_semantics.sql.sql_bind_parameters import SqlBindParameterSet

from ingestion.queries import sql_literal
from orchestration.transform.project import prepared_dbt_project

# the serving file's catalog in the query's in-memory database
PUBLISHED_CATALOG = "published"
SEMANTIC_MANIFEST = "semantic_manifest.json"
NO_PARAMETERS = SqlBindParameterSet()


class MetricsError(RuntimeError):
    """A metrics request that cannot be answered, said so a person can act on it."""


def _published_relation(relation: PydanticNodeRelation, catalog: str) -> PydanticNodeRelation:
    """A node relation of the parsed project (the parse-time database, `memory`) pointed at the
    serving file's catalog; the schema and table names are the serving file's own."""
    return relation.copy(
        update={
            "database": catalog,
            "relation_name": f'"{catalog}"."{relation.schema_name}"."{relation.alias}"',
        }
    )


def published_semantic_manifest(catalog: str = PUBLISHED_CATALOG) -> PydanticSemanticManifest:
    """The project's semantic manifest, its tables read from `catalog`."""
    with prepared_dbt_project() as project:
        path = Path(project.project_dir) / project.target_path / SEMANTIC_MANIFEST
        text = path.read_text(encoding="utf-8")
    manifest = parse_manifest_from_dbt_generated_manifest(manifest_json_string=text)
    semantic_models = [
        model.copy(update={"node_relation": _published_relation(model.node_relation, catalog)})
        for model in manifest.semantic_models
    ]
    configuration = manifest.project_configuration
    time_spines = [
        spine.copy(update={"node_relation": _published_relation(spine.node_relation, catalog)})
        for spine in configuration.time_spines
    ]
    return manifest.copy(
        update={
            "semantic_models": semantic_models,
            "project_configuration": configuration.copy(update={"time_spines": time_spines}),
        }
    )


class PublishedFileSqlClient:
    """MetricFlow's SqlClient on DuckDB: an in-memory database with the serving file attached
    read-only as `published`."""

    def __init__(self, warehouse_path: str | Path) -> None:
        self._connection = duckdb.connect(":memory:")
        self._connection.execute(
            f"attach {sql_literal(str(warehouse_path))} as {PUBLISHED_CATALOG} (read_only)"
        )

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self._connection

    @property
    def sql_engine_type(self) -> SqlEngine:
        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self) -> SqlPlanRenderer:
        return DuckDbSqlPlanRenderer()

    @staticmethod
    def _parameters(bind_parameters: SqlBindParameterSet) -> None:
        """MetricFlow renders DuckDB SQL with literals; it binds nothing."""
        if bind_parameters.param_items:
            raise MetricsError("MetricFlow asked for bind parameters, which are not supported")

    def query(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_PARAMETERS
    ) -> MetricFlowDataTable:
        self._parameters(sql_bind_parameter_set)
        result = self._connection.execute(stmt)
        names = [column[0] for column in result.description or []]
        return MetricFlowDataTable.create_from_rows(column_names=names, rows=result.fetchall())

    def execute(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_PARAMETERS
    ) -> None:
        self._parameters(sql_bind_parameter_set)
        self._connection.execute(stmt)

    def dry_run(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_PARAMETERS
    ) -> None:
        self._parameters(sql_bind_parameter_set)
        self._connection.execute(f"explain {stmt}")

    def close(self) -> None:
        self._connection.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


@dataclass(frozen=True)
class MetricsRequest:
    """What `siyu metrics query` asks: metrics by group-by items (`metric_time__month`,
    `channel`, ...), optionally within [start, end] of metric_time."""

    metrics: tuple[str, ...]
    group_by: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    where: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ()
    limit: int | None = None


@dataclass(frozen=True)
class MetricsAnswer:
    sql: str
    frame: pl.DataFrame


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    type: str
    label: str
    description: str


def _quiet_metricflow() -> None:
    """MetricFlow logs every plan at INFO; a command line wants the answer only."""
    for name in ("metricflow", "metricflow_semantics", "metricflow_semantic_interfaces"):
        logging.getLogger(name).setLevel(logging.WARNING)


class SemanticLayer:
    """The metrics of the project over one serving file."""

    def __init__(self, warehouse_path: str | Path) -> None:
        if not Path(warehouse_path).exists():
            raise MetricsError(
                f"no serving file at {warehouse_path}: run `siyu refresh` (or `siyu demo`) first"
            )
        _quiet_metricflow()
        self._client = PublishedFileSqlClient(warehouse_path)
        self._engine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(published_semantic_manifest()),
            sql_client=self._client,
        )

    def __enter__(self) -> SemanticLayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def definitions(self) -> list[MetricDefinition]:
        metrics = self._engine.list_metrics(include_dimensions=False)
        return sorted(
            (
                MetricDefinition(
                    name=metric.name,
                    type=metric.type.value,
                    label=metric.label or metric.name,
                    description=(metric.description or "").strip(),
                )
                for metric in metrics
            ),
            key=lambda metric: metric.name,
        )

    def group_bys(self, metrics: Sequence[str]) -> list[str]:
        """The group-by items every one of these metrics accepts (dimensions and entities)."""
        try:
            items = self._engine.list_group_bys(
                metric_names=list(metrics), include_derived_time_granularities=True
            )
        except MetricFlowException as error:
            raise MetricsError(str(error).strip()) from error
        return sorted(getattr(item, "dunder_name", item.name) for item in items)

    def sql(self, request: MetricsRequest) -> str:
        try:
            explained = self._engine.explain(self._request(request))
        except MetricFlowException as error:
            raise MetricsError(str(error).strip()) from error
        statement = explained.sql_statement
        PublishedFileSqlClient._parameters(statement.bind_parameter_set)
        return statement.sql

    def query(self, request: MetricsRequest) -> MetricsAnswer:
        sql = self.sql(request)
        try:
            frame = self._client.connection.sql(sql).pl()
        except duckdb.Error as error:
            raise MetricsError(f"the query failed in DuckDB: {error}") from error
        # every time dimension of the marts is a date (day grain or coarser): show dates; a
        # count summed by DuckDB comes back as DECIMAL(38,0): show it as the integer it is
        counts = [
            name
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.Decimal) and dtype.scale == 0
        ]
        frame = frame.with_columns(pl.col(pl.Datetime).dt.date(), pl.col(counts).cast(pl.Int64))
        return MetricsAnswer(sql=sql, frame=frame)

    @staticmethod
    def _request(request: MetricsRequest) -> MetricFlowQueryRequest:
        if not request.metrics:
            raise MetricsError("name at least one metric (`siyu metrics list` shows them)")
        return MetricFlowQueryRequest.create(
            metric_names=list(request.metrics),
            group_by_names=list(request.group_by) or None,
            time_constraint_start=(
                datetime.combine(request.start, time.min) if request.start else None
            ),
            time_constraint_end=datetime.combine(request.end, time.min) if request.end else None,
            where_constraints=list(request.where) or None,
            order_by_names=list(request.order_by) or None,
            limit=request.limit,
        )
