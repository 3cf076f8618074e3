"""Files rendered from ingestion/schemas.py are committed, never edited by hand."""

from __future__ import annotations

from expectations.export import SUITES_DIR, suite_documents
from ingestion.dbt_sources import render_sources_yml, sources_yml_path, systems


def test_committed_sources_yml_match_the_schemas() -> None:
    for system in systems():
        path = sources_yml_path(system)
        assert path.read_text(encoding="utf-8") == render_sources_yml(system), (
            f"{path} is stale: run `python -m ingestion.dbt_sources`"
        )


def test_committed_gx_suites_match_the_code() -> None:
    documents = suite_documents()
    assert sorted(p.name for p in SUITES_DIR.glob("*.json")) == sorted(documents)
    for name, text in documents.items():
        assert (SUITES_DIR / name).read_text(encoding="utf-8") == text, (
            f"expectations/suites/{name} is stale: run `python -m expectations.export`"
        )
