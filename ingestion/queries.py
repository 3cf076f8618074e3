"""Read a query's result whole, so no DuckDB result is ever left unfinished.

DuckDB 2.0 refuses other work on a connection (`register`, `sql`, ...) while a result of
`execute()` is only partly fetched: `execute(...).fetchone()` on a query with a row leaves it so.
Every query of the product whose result is read goes through these two helpers (a test keeps
`fetchone` out of the product's code).
"""

from __future__ import annotations

from typing import Any

import duckdb


def fetch_row(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: object = None
) -> tuple[Any, ...] | None:
    """The only row of a query, or None when it has none; raises when it has more."""
    rows = con.execute(sql, parameters).fetchall()
    if len(rows) > 1:
        raise ValueError(f"expected at most one row, got {len(rows)}: {sql.strip()[:80]}")
    return rows[0] if rows else None


def fetch_value(con: duckdb.DuckDBPyConnection, sql: str, parameters: object = None) -> Any:
    """The first column of the only row of a query (None when it has no row)."""
    row = fetch_row(con, sql, parameters)
    return None if row is None else row[0]


def sql_literal(text: str) -> str:
    """A SQL string literal, for the few statements that take no parameters (SET)."""
    return "'" + text.replace("'", "''") + "'"
