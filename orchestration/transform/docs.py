"""dbt's static docs site of the project, written beside the serving file (`siyu docs`).

One self-contained HTML file (`dbt docs generate --static`: the manifest and the catalog are
inside it): every model's description and columns, and the lineage from the landing sources
(the raw tables) through staging and intermediate models to the marts. The catalog (column
types) is read from the working database, so the site is written under the refresh's writer
lock, never while a refresh runs.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestration.runner import writer_lock
from orchestration.settings import SiyuSettings
from orchestration.transform.cli_args import DbtVars, dbt_vars_argument
from orchestration.transform.project import DBT_PROJECT_DIR, dbt_executable

DOCS_FOLDER = "docs"  # beside the serving file


class DocsError(RuntimeError):
    """dbt could not write the docs site."""


@dataclass(frozen=True)
class DocsSite:
    index: Path  # the site: one HTML file


def docs_folder(settings: SiyuSettings) -> Path:
    return Path(settings.warehouse_path).parent / DOCS_FOLDER


def write_docs_site(settings: SiyuSettings) -> DocsSite:
    """Generate the site into a temporary target folder and copy its one file into place."""
    if not Path(settings.work_db_path).exists():
        raise DocsError(
            f"no working database at {settings.work_db_path}: run `siyu refresh` (or "
            "`siyu demo`) first, the docs show the tables it built"
        )
    dbt_vars = DbtVars(
        work_db_path=settings.work_db_path,
        business_timezone=settings.business_timezone,
        memory_limit=settings.duckdb_memory_limit,
    )
    target_folder = docs_folder(settings)
    with writer_lock(settings.work_db_path), tempfile.TemporaryDirectory() as target:
        command = [
            dbt_executable(),
            "docs",
            "generate",
            "--static",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            target,
            "--log-path",
            str(Path(settings.logs_dir)),
            *dbt_vars_argument(dbt_vars),
        ]
        done = subprocess.run(command, capture_output=True, text=True, cwd=DBT_PROJECT_DIR)
        site = Path(target) / "static_index.html"
        if done.returncode != 0 or not site.exists():
            errors = [line for line in done.stdout.splitlines() if "Error" in line]
            detail = errors[-1].strip() if errors else f"exit status {done.returncode}"
            raise DocsError(f"dbt docs generate failed: {detail} (see {settings.logs_dir})")
        target_folder.mkdir(parents=True, exist_ok=True)
        index = target_folder / "index.html"
        shutil.copyfile(site, index)
    return DocsSite(index=index)
