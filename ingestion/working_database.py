"""The working database's own tables, and their one writer.

Beside the raw tables of the sources (defined in `ingestion.schemas`), the working database holds
the pipeline's bookkeeping — every landed file (`raw.landed_files`), the change log since the
last complete dbt build (`raw.pending_changes`), the record of complete builds
(`raw.dbt_builds`) and of builds begun since (`raw.dbt_build_attempts`) — and the quarantine.
They are defined here, once: their DDL, and the dbt source yml of those dbt reads (rendered by
`ingestion.dbt_sources`). This module is the only writer of the change log.

The change log is what makes the dbt models incremental: every load or removal of raw rows notes
which business dates and entities the incremental models must recompute. Each row says what kind
of change it is (`ChangeKind`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import duckdb

from ingestion.queries import fetch_value, sql_literal
from ingestion.schemas import SOURCES, SourceSchema


@dataclass(frozen=True)
class TableColumn:
    name: str
    duckdb_type: str
    description: str
    nullable: bool = True


@dataclass(frozen=True)
class WorkingTable:
    """A table of the working database that no landing source defines."""

    schema: str
    name: str
    description: str
    columns: tuple[TableColumn, ...]
    primary_key: tuple[str, ...] = ()
    check: str = ""  # a CHECK constraint over the columns
    read_by_dbt: bool = False  # rendered as a dbt source of the `landing` system

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    def ddl(self) -> str:
        lines = [
            f"{column.name} {column.duckdb_type}{'' if column.nullable else ' not null'}"
            for column in self.columns
        ]
        if self.primary_key:
            lines.append(f"primary key ({', '.join(self.primary_key)})")
        if self.check:
            lines.append(f"check ({self.check})")
        body = ",\n    ".join(lines)
        return f"create table if not exists {self.qualified_name} (\n    {body}\n)"

    def comment_statements(self) -> list[str]:
        """COMMENT ON statements that write the descriptions into the database (shown by
        `duckdb_tables()` and `duckdb_columns()`, and by clients that read them)."""
        return [
            f"comment on table {self.qualified_name} is {sql_literal(self.description)}",
            *(
                f"comment on column {self.qualified_name}.{column.name} is "
                f"{sql_literal(column.description)}"
                for column in self.columns
            ),
        ]


class ChangeKind(StrEnum):
    """What a change-log row asks the incremental models to recompute."""

    # the rows of a daily file changed: its business date (`business_date`)
    FILE_DATE = "file_date"
    # the rows of a whole file changed (channel registry, commission rules): its `source`
    WHOLE_FILE = "whole_file"
    # the rows of an entity changed (an order, a user, a session): that entity (`entity_key`)
    ENTITY = "entity"
    # an instant of a changed entity's rows, old or new (a paid_at, a refunded_at): its
    # business date (`event_at`)
    EVENT_INSTANT = "event_instant"
    # the owner of a changed entity's rows, old or new (an order's user): its id (`entity_key`)
    OWNER = "owner"
    # a day of the run's partition window (`business_date`): re-running a day recomputes it
    REFRESH_WINDOW = "refresh_window"


LANDED_FILES = WorkingTable(
    schema="raw",
    name="landed_files",
    description="One row per landed file: its date, status (loaded or rejected) and row counts.",
    columns=(
        TableColumn("source", "varchar", "The landing source (raw table name).", nullable=False),
        TableColumn("file", "varchar", "Path relative to the landing folder.", nullable=False),
        TableColumn("file_date", "date", "Date in the file name (NULL for whole files)."),
        TableColumn(
            "fingerprint",
            "varchar",
            "Content and parsing settings the file was loaded with.",
            nullable=False,
        ),
        TableColumn("encoding", "varchar", "utf-8 or gb18030 (NULL when rejected)."),
        TableColumn("status", "varchar", "loaded or rejected", nullable=False),
        TableColumn("reason", "varchar", "Why the file was rejected."),
        TableColumn("rows_landed", "bigint", "Data rows in the file.", nullable=False),
        TableColumn("rows_loaded", "bigint", "Rows in the raw table.", nullable=False),
        TableColumn("rows_rejected", "bigint", "Rows quarantined.", nullable=False),
        TableColumn("loaded_at", "timestamptz", "When it was loaded.", nullable=False),
    ),
    primary_key=("source", "file"),
    read_by_dbt=True,
)

PENDING_CHANGES = WorkingTable(
    schema="raw",
    name="pending_changes",
    description=(
        "The change log since the last complete dbt build: what the incremental models "
        "recompute. Each row is one kind of change (change_kind)."
    ),
    columns=(
        TableColumn(
            "change_kind",
            "varchar",
            "file_date, whole_file, entity, event_instant, owner or refresh_window",
            nullable=False,
        ),
        TableColumn("source", "varchar", "The raw source whose rows changed."),
        TableColumn("business_date", "date", "file_date, refresh_window: the date."),
        TableColumn("entity_key", "varchar", "entity: e.g. an order_id; owner: a user_id."),
        TableColumn("event_at", "timestamptz", "event_instant: e.g. a paid_at."),
        TableColumn("noted_at", "timestamptz", "When the change was noted.", nullable=False),
    ),
    check=(
        "case change_kind "
        "when 'file_date' then source is not null and business_date is not null "
        "when 'whole_file' then source is not null "
        "when 'entity' then source is not null and entity_key is not null "
        "when 'event_instant' then source is not null and event_at is not null "
        "when 'owner' then source is not null and entity_key is not null "
        "when 'refresh_window' then business_date is not null "
        "else false end"
    ),
    read_by_dbt=True,
)

# what a dbt build ran, and when: in the record of complete builds and of those begun since
_BUILD_COLUMNS = (
    TableColumn("project_fingerprint", "varchar", "The dbt project's SQL it ran.", nullable=False),
    TableColumn("started_at", "timestamptz", "When it began.", nullable=False),
)

DBT_BUILDS = WorkingTable(
    schema="raw",
    name="dbt_builds",
    description=(
        "Complete dbt builds. Until one is recorded the next build is a full refresh, so the "
        "loader keeps no change log."
    ),
    columns=(
        *_BUILD_COLUMNS,
        TableColumn("full_refresh", "boolean", "A rebuild from scratch.", nullable=False),
        TableColumn("changes_applied", "bigint", "Change-log rows it applied.", nullable=False),
    ),
)

DBT_BUILD_ATTEMPTS = WorkingTable(
    schema="raw",
    name="dbt_build_attempts",
    description=(
        "dbt builds begun since the last complete one. One that ran other model logic and did not "
        "complete may have left tables of that logic: the next build is then a full refresh."
    ),
    columns=(*_BUILD_COLUMNS,),
)

REJECTED_ROWS = WorkingTable(
    schema="quarantine",
    name="rejected_rows",
    description="Rows set aside, with the reason in words and the record as it landed.",
    columns=(
        TableColumn("source", "varchar", "The landing source.", nullable=False),
        TableColumn("file", "varchar", "The landed file.", nullable=False),
        TableColumn("file_date", "date", "Date in the file name."),
        TableColumn("row_number", "bigint", "Row in the file, from 1.", nullable=False),
        TableColumn("reason", "varchar", "Why the row was set aside.", nullable=False),
        TableColumn(
            "raw_record", "varchar", "The row as JSON, personal data masked.", nullable=False
        ),
    ),
)

REJECTED_FILES = WorkingTable(
    schema="quarantine",
    name="rejected_files",
    description="Files none of whose rows load, with the reason.",
    columns=(
        TableColumn("source", "varchar", "The landing source.", nullable=False),
        TableColumn("file", "varchar", "The landed file.", nullable=False),
        TableColumn("file_date", "date", "Date in the file name."),
        TableColumn("reason", "varchar", "Why the file was rejected.", nullable=False),
    ),
)

WORKING_TABLES: tuple[WorkingTable, ...] = (
    LANDED_FILES,
    PENDING_CHANGES,
    DBT_BUILDS,
    DBT_BUILD_ATTEMPTS,
    REJECTED_ROWS,
    REJECTED_FILES,
)


def raw_table_ddl(schema: SourceSchema) -> str:
    columns = ",\n    ".join(f"{name} {kind}" for name, kind in schema.raw_columns.items())
    return f"create table if not exists {schema.raw_table} (\n    {columns}\n)"


def _has_column(con: duckdb.DuckDBPyConnection, table: WorkingTable, column: str) -> bool:
    return bool(
        fetch_value(
            con,
            "select count(*) from duckdb_columns() where database_name = current_database() "
            "and schema_name = ? and table_name = ? and column_name = ?",
            [table.schema, table.name, column],
        )
    )


def _check_mentions(con: duckdb.DuckDBPyConnection, table: WorkingTable, text: str) -> bool:
    return bool(
        fetch_value(
            con,
            "select count(*) from duckdb_constraints() where database_name = current_database() "
            "and schema_name = ? and table_name = ? and constraint_type = 'CHECK' "
            "and contains(expression, ?)",
            [table.schema, table.name, text],
        )
    )


def _has_comment(con: duckdb.DuckDBPyConnection, table: WorkingTable) -> bool:
    return (
        fetch_value(
            con,
            "select comment from duckdb_tables() where database_name = current_database() "
            "and schema_name = ? and table_name = ?",
            [table.schema, table.name],
        )
        == table.description
    )


def _table_exists(con: duckdb.DuckDBPyConnection, table: WorkingTable) -> bool:
    return bool(
        fetch_value(
            con,
            "select count(*) from duckdb_tables() where database_name = current_database() "
            "and schema_name = ? and table_name = ?",
            [table.schema, table.name],
        )
    )


def _working_schema_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether every raw and working table is there, with its comment, and the change log is
    of this Siyu: three catalog queries, where creating them if not exists takes thirty (a
    refresh asks at every connection it opens)."""
    present = dict(
        con.execute(
            "select schema_name || '.' || table_name, comment from duckdb_tables() "
            "where database_name = current_database() and schema_name in ('raw', 'quarantine')"
        ).fetchall()
    )
    return (
        all(schema.raw_table in present for schema in SOURCES)
        and all(present.get(table.qualified_name) == table.description for table in WORKING_TABLES)
        and _has_column(con, PENDING_CHANGES, "change_kind")
        and _check_mentions(con, PENDING_CHANGES, f"'{ChangeKind.OWNER}'")
    )


def ensure_working_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw and quarantine schemas and tables when they do not exist yet."""
    if _working_schema_is_current(con):
        return
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists quarantine")
    # A log written by an older Siyu is dropped (0.1 logged changes without their kind, later
    # builds without the `owner` kind, which their check rejects): the dbt project changed with
    # the upgrade, so the next build is a full refresh and needs no log.
    if _table_exists(con, PENDING_CHANGES) and (
        not _has_column(con, PENDING_CHANGES, "change_kind")
        or not _check_mentions(con, PENDING_CHANGES, f"'{ChangeKind.OWNER}'")
    ):
        con.execute(f"drop table {PENDING_CHANGES.qualified_name}")
    for schema in SOURCES:
        con.execute(raw_table_ddl(schema))
    for table in WORKING_TABLES:
        con.execute(table.ddl())
        if not _has_comment(con, table):
            for statement in table.comment_statements():
                con.execute(statement)


# -- the change log ---------------------------------------------------------------------------


def incremental_builds_follow(con: duckdb.DuckDBPyConnection) -> bool:
    """True once a complete dbt build is recorded: later builds are incremental and read the
    change log. Before, the next build is a full refresh (an initial load of months of files
    then skips the log, which would cost a scan of the raw table per file)."""
    return bool(fetch_value(con, "select exists (select 1 from raw.dbt_builds)"))


def note_changed_rows(
    con: duckdb.DuckDBPyConnection,
    schema: SourceSchema,
    rows_where: str,
    parameters: list[object],
) -> None:
    """Note what rows of `schema.raw_table` matching `rows_where` (about to be deleted, or just
    inserted) may change downstream: their file dates, their entities, and the instants of every
    row of those entities (an order's old current state may sit in another file: its paid and
    refund dates must be recomputed too)."""
    if not incremental_builds_follow(con):
        return
    table = schema.raw_table
    file_kind = ChangeKind.FILE_DATE if schema.dated else ChangeKind.WHOLE_FILE
    con.execute(
        "insert into raw.pending_changes (change_kind, source, business_date, noted_at) "
        f"select distinct '{file_kind}', ?, _file_date, now() "
        f"from {table} as changed where {rows_where}",
        [schema.name, *parameters],
    )
    if schema.change_key is None:
        return
    key = schema.change_key
    con.execute(
        f"create or replace temp table changed_keys as select distinct {key} as entity_key "
        f"from {table} as changed where {rows_where}",
        parameters,
    )
    con.execute(
        "insert into raw.pending_changes (change_kind, source, entity_key, noted_at) "
        f"select '{ChangeKind.ENTITY}', ?, entity_key, now() from changed_keys "
        "where entity_key is not null",
        [schema.name],
    )
    # every row of the changed entities, old and new, once: their instants and owners
    noted = [*schema.change_instants, *([schema.change_owner] if schema.change_owner else [])]
    if not noted:
        con.execute("drop table changed_keys")
        return
    con.execute(
        f"create or replace temp table changed_entity_rows as select {', '.join(noted)} "
        f"from {table} where {key} in (select entity_key from changed_keys)"
    )
    if schema.change_instants:
        instants = ", ".join(schema.change_instants)
        con.execute(
            f"""
            insert into raw.pending_changes (change_kind, source, event_at, noted_at)
            select distinct '{ChangeKind.EVENT_INSTANT}', ?, event_at, now()
            from (select unnest([{instants}]) as event_at from changed_entity_rows)
            where event_at is not null
            """,
            [schema.name],
        )
    if schema.change_owner:
        con.execute(
            "insert into raw.pending_changes (change_kind, source, entity_key, noted_at) "
            f"select distinct '{ChangeKind.OWNER}', ?, {schema.change_owner}, now() "
            f"from changed_entity_rows where {schema.change_owner} is not null",
            [schema.name],
        )
    con.execute("drop table changed_entity_rows")
    con.execute("drop table changed_keys")


def note_refresh_window(con: duckdb.DuckDBPyConnection, start: date, end: date) -> None:
    """Note the run's partition window: the daily aggregates recompute its dates as well (a
    re-run of a day recomputes that day). It leaves the log with the rest of it."""
    ensure_working_schema(con)
    con.execute(
        "insert into raw.pending_changes (change_kind, business_date, noted_at) "
        f"select '{ChangeKind.REFRESH_WINDOW}', cast(day as date), now() "
        "from generate_series(?, ?, interval 1 day) as window_days(day)",
        [start, end],
    )


# -- the build record -------------------------------------------------------------------------


def last_complete_build_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    ensure_working_schema(con)
    found = fetch_value(
        con, "select project_fingerprint from raw.dbt_builds order by started_at desc limit 1"
    )
    return None if found is None else str(found)


def needs_full_refresh(con: duckdb.DuckDBPyConnection, fingerprint: str) -> bool:
    """True when no complete build is recorded, the last one used other model logic, or a build
    of other model logic began since and did not complete (it may have rebuilt tables, seeds
    included, with that logic)."""
    if last_complete_build_fingerprint(con) != fingerprint:
        return True
    return bool(
        fetch_value(
            con,
            "select exists (select 1 from raw.dbt_build_attempts "
            "where project_fingerprint <> ? "
            "and started_at > (select max(started_at) from raw.dbt_builds))",
            [fingerprint],
        )
    )


def record_build_attempt(
    con: duckdb.DuckDBPyConnection, fingerprint: str, started_at: datetime
) -> None:
    """Before a build begins: what logic it runs (see `needs_full_refresh`)."""
    ensure_working_schema(con)
    con.execute("insert into raw.dbt_build_attempts values (?, ?)", [fingerprint, started_at])


def record_complete_build(
    con: duckdb.DuckDBPyConnection, fingerprint: str, started_at: datetime, full_refresh: bool
) -> int:
    """After a successful build of every model: the change log up to its start is applied, and
    forgotten. Returns how many change-log rows that was."""
    ensure_working_schema(con)
    applied = int(
        fetch_value(con, "delete from raw.pending_changes where noted_at < ?", [started_at]) or 0
    )
    con.execute(
        "insert into raw.dbt_builds values (?, ?, ?, ?)",
        [fingerprint, started_at, full_refresh, applied],
    )
    con.execute("delete from raw.dbt_build_attempts where started_at <= ?", [started_at])
    return applied
