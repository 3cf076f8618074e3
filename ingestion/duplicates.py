"""Duplicates of a key that must be unique (`SourceSchema.unique_key`): the first occurrence
wins — earlier file, then earlier row — and a later row with the same key and other values is a
conflicting duplicate (spec/sources.md). Exact duplicates are not conflicts: the models collapse
them.

This is the one definition of a conflicting duplicate: the loader quarantines the rows it
marks, and the row suite checks that none is left.
"""

from __future__ import annotations

from ingestion.schemas import Column, SourceSchema


def _stored(column: Column) -> str:
    return column.raw_name


def key_columns(schema: SourceSchema) -> list[str]:
    """What a key is unique within: every file of the source, or one file."""
    return list(schema.unique_key) + (["_file"] if schema.unique_scope == "file" else [])


def occurrence_window(schema: SourceSchema) -> str:
    """The rows sharing a key, in order of occurrence."""
    return (
        f"over (partition by {', '.join(key_columns(schema))} "
        "order by _file_date, _file, _row_number)"
    )


def row_content(schema: SourceSchema) -> str:
    """A row's values as stored (personal data hashed), all columns of the source."""
    fields = ", ".join(f"{column.raw_name} := {_stored(column)}" for column in schema.columns)
    return f"struct_pack({fields})"


def differs_from_first_occurrence(schema: SourceSchema) -> str:
    """SQL over a raw table: true for a row whose key occurred earlier with other values."""
    content = row_content(schema)
    return f"{content} is distinct from first_value({content}) {occurrence_window(schema)}"
