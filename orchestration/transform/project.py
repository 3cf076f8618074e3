"""The dbt project, loaded once for the whole code location."""

from __future__ import annotations

import fcntl
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from ingestion.content_hash import tree_digest
from orchestration.transform.cli_args import dbt_target_path

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


def _dbt_beside_python() -> Path:
    return Path(sys.executable).parent / "dbt"


def dbt_executable() -> str:
    """The dbt installed beside this Python (a venv's bin/ need not be on PATH)."""
    beside = _dbt_beside_python()
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


siyu_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)


def build_target_path(work_db_path: str) -> Path:
    """The dbt target folder of the builds of one working database (absolute)."""
    return dbt_target_path(DBT_PROJECT_DIR / siyu_dbt_project.target_path, work_db_path)


class SiyuDbtCliResource(DbtCliResource):
    """The dbt CLI, without the dbt adapter dagster-dbt opens in-process for every invocation.

    That handle serves features Siyu does not use (row counts and column metadata fetched from
    the warehouse after a build); loading the project's macros for it costs about 1.5 s a
    build. dagster-dbt accepts no adapter (it runs without one for dbt Fusion).
    """

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None

    @cached_property
    def _cli_version(self) -> Version:
        """dagster-dbt asks the executable (`dbt --version`, a 2 s process start in every run);
        the dbt beside this Python is the dbt-core package installed with it."""
        if Path(self.dbt_executable) == _dbt_beside_python():
            return Version(installed_version("dbt-core"))
        return super()._cli_version


def _newest_source_mtime(project_dir: Path) -> float:
    newest = (project_dir / "dbt_project.yml").stat().st_mtime
    for folder in ("models", "macros", "seeds", "tests"):
        for path in (project_dir / folder).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(
        project.project_dir
    )


@contextmanager
def prepared_dbt_project(project: DbtProject = siyu_dbt_project) -> Iterator[DbtProject]:
    """The project with a current target/manifest.json, held until the block ends.

    The manifest is parsed when it is missing or older than the project's files (a fresh clone
    has none; `dagster dev` re-parses on every load). Every process that loads the definitions
    (`siyu refresh`, `siyu ui`, test workers) may find it missing at the same moment: a lock
    beside the manifest lets one parse while the others wait, then read the finished file."""
    target = Path(project.project_dir) / project.target_path
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".manifest.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if project.preparer.using_dagster_dev() or manifest_is_stale(project):
                DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
                    ["parse", "--quiet"], target_path=project.target_path
                ).wait()
            yield project
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# what decides the contents of the dbt tables (not docs, not tests)
PROJECT_INPUTS = ("dbt_project.yml", "models", "macros", "seeds")
_INPUT_SUFFIXES = (".sql", ".yml", ".yaml", ".csv")


def project_files(project_dir: Path, names: tuple[str, ...]) -> list[Path]:
    """The SQL, yml and csv files under the named files and folders of the project, in a
    stable order (what its digests cover)."""
    inputs: list[Path] = []
    for name in names:
        path = project_dir / name
        if path.is_dir():
            inputs += sorted(p for p in path.rglob("*") if p.is_file())
        elif path.exists():
            inputs.append(path)
    return [file for file in inputs if file.suffix in _INPUT_SUFFIXES]


def project_fingerprint(project_dir: Path) -> str:
    """A digest of the SQL, macros, seeds and configuration of the dbt project. Incremental
    tables hold what the models' SQL computed at the time: when it changes (a new Siyu release,
    an edited model or macro), the next build is a full refresh, so no table mixes the old
    logic's rows with the new one's."""
    return tree_digest(project_dir, project_files(project_dir, PROJECT_INPUTS))
