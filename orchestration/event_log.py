"""Dagster's SQLite event log, with its database connections kept open.

Dagster's `SqliteEventLogStorage` creates a SQLAlchemy engine, opens a connection, commits with
an fsync and closes the connection for every statement, and a daily refresh writes ~900 events
(a step's start, each output, each asset check planned and evaluated...), most of them twice
(the run's own database and the cross-run index). Closing the last connection of a WAL database
also checkpoints it. That bookkeeping was ~5 s of a ~16 s daily refresh.

This subclass keeps one engine per database with its connections open (one per thread), and
commits in WAL mode without an fsync each (`synchronous=NORMAL`: SQLite's documented setting for
WAL, safe from corruption; a power cut may lose the last events of a run, never the warehouse).
The files, their schema and their locking are Dagster's own: the UI and the daemon read them,
with this class or with Dagster's. The UI follows a running run by watching its database file,
which a WAL database only changes when checkpointed: a run's database is checkpointed at most once
a second (and when its connections close), so a run's log in the UI lags by a second at most.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import SingletonThreadPool

# the engines of the index and of the runs written or read last (a UI process reads many runs:
# older engines are closed, so it keeps a few files open, not one per run)
KEPT_ENGINES = 8
CHECKPOINT_EVERY_SECONDS = 1.0


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class KeptConnectionsSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` whose engines and connections last (see the module)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        self._engines_lock = threading.Lock()
        self._checkpointed_at: dict[str, float] = {}
        self._tables_present: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> KeptConnectionsSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _kept_engine(self, shard: str) -> Engine:
        with self._engines_lock:
            if self._engines_pid != os.getpid():  # a forked child: its parent's connections
                self._engines = OrderedDict()  # are not its own
                self._engines_pid = os.getpid()
            engine = self._engines.get(shard)
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard),
                    poolclass=SingletonThreadPool,
                    # connections are used under the storage's lock, one thread at a time; an
                    # engine may be disposed of from another thread than the one that opened it
                    connect_args={
                        "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                        "check_same_thread": False,
                    },
                )
                event.listen(engine, "connect", _set_pragmas)
                self._engines[shard] = engine
            self._engines.move_to_end(shard)
            while len(self._engines) > KEPT_ENGINES:
                oldest = next(name for name in self._engines if name != INDEX_SHARD_NAME)
                self._engines.pop(oldest).dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._kept_engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn
                if shard != INDEX_SHARD_NAME:
                    self._checkpoint_now_and_then(conn, shard)

    def has_table(self, table_name: str) -> bool:
        """Whether the index has a table, asked once (Dagster asks before every asset check
        event, each time on a new engine, at times inside a transaction of the index): a table,
        once there, stays."""
        if table_name in self._tables_present:
            return True
        present = super().has_table(table_name)
        if present:
            self._tables_present.add(table_name)
        return present

    def _checkpoint_now_and_then(self, conn: Connection, shard: str) -> None:
        """Write the run's WAL into its database file at most once a second, so the file the
        UI watches changes while the run goes on."""
        now = time.monotonic()
        if now - self._checkpointed_at.get(shard, 0.0) >= CHECKPOINT_EVERY_SECONDS:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            self._checkpointed_at[shard] = now

    def dispose(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        super().dispose()
