"""The dbt sources yml is rendered from ingestion/schemas.py, never edited by hand."""

from __future__ import annotations

from ingestion.dbt_sources import render_sources_yml, sources_yml_path, systems


def test_committed_sources_yml_match_the_schemas() -> None:
    for system in systems():
        path = sources_yml_path(system)
        assert path.read_text(encoding="utf-8") == render_sources_yml(system), (
            f"{path} is stale: run `python -m ingestion.dbt_sources`"
        )
