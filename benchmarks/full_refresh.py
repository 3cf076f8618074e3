"""Benchmark: one full refresh of a generated history, against its floor.

    .venv/bin/python benchmarks/full_refresh.py --scale 10 --days 30 [--landing DIR]

Generates a landing zone (or reuses the one in DIR, default benchmarks/.cache/s<S>d<N>), runs
`siyu refresh` over all of it on a new working database as a user would (a separate process,
Dagster's persistent instance), samples the resident memory of that process and its children
(dbt) ten times a second, and prints the wall time, the peak RSS, the time per stage (parse and
load, gates, dbt models and tests, publish, Dagster and the rest) and the ratio to the floor:
DuckDB's own `read_csv` / `read_json` of the same files into tables, plus the dbt models' own
SQL time from run_results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from ingestion.schemas import SOURCES
from orchestration.transform.project import build_target_path
from synthetic.generator import GeneratorSettings, generate_landing_zone

CACHE = Path(__file__).resolve().parent / ".cache"
END = date(2026, 10, 30)


def landing_zone(scale: float, days: int, landing: Path | None) -> Path:
    path = landing or CACHE / f"s{scale:g}d{days}"
    if not (path / "mall" / "orders").is_dir():
        began = time.perf_counter()
        generate_landing_zone(
            GeneratorSettings(
                out=path, days=days, scale=scale, seed=11, start=END - timedelta(days=days - 1)
            )
        )
        print(f"generated {path} in {time.perf_counter() - began:.0f} s")
    return path


def duckdb_read_seconds(landing: Path, database: str = ":memory:") -> float:
    """DuckDB reading every daily file of every source into a table (the floor of loading): of
    an in-memory database, or of a database file as the loader writes one."""
    con = duckdb.connect(database)
    began = time.perf_counter()
    for schema in SOURCES:
        files = [str(p) for p in sorted(landing.glob(schema.path_glob))]
        if not files:
            continue
        if schema.file_format == "csv":
            if schema.name == "channels_registry":
                continue  # GBK: DuckDB reads no GB18030 without an extension (a few rows)
            reader = f"read_csv({files!r}, header = true, union_by_name = true)"
        else:
            reader = f"read_json({files!r}, format = 'auto')"
        con.execute(f"create table {schema.name} as select * from {reader}")
    seconds = time.perf_counter() - began
    con.close()
    return seconds


def tree_rss_bytes(root: int) -> int:
    """Resident memory of a process and its descendants, now."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            status = (entry / "status").read_text()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(stat[1])
        children.setdefault(ppid, []).append(pid)
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        rss[pid] = int(match.group(1)) * 1024 if match else 0
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def run_refresh(landing: Path, root: Path) -> tuple[float, int, str, Path]:
    warehouse = root / "warehouse" / "siyu.duckdb"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIYU_")}
    environment |= {"SIYU_PII_SALT": "benchmark"}
    command = [
        sys.executable,
        "-m",
        "orchestration.cli",
        "refresh",
        "--landing",
        str(landing),
        "--warehouse",
        str(warehouse),
        "--no-fetch",
    ]
    peak = 0
    began = time.perf_counter()
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )

    def sample() -> None:
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, tree_rss_bytes(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    wall = time.perf_counter() - began
    sampler.join()
    if process.returncode != 0:
        print(output[-5000:])
        raise SystemExit(f"the refresh failed (exit {process.returncode})")
    stages = next((line for line in output.splitlines() if line.startswith("Stages")), "")
    return wall, peak, stages, root / "warehouse" / "siyu.work.duckdb"


def stage_seconds(stages: str, stage: str) -> float:
    """A stage's seconds in the run summary's `Stages` line (`parse and load 25.7 s`)."""
    found = re.search(rf"{re.escape(stage)} ([0-9.]+) s", stages)
    return float(found.group(1)) if found else float("nan")


def model_sql_seconds(work_db: Path) -> float:
    results = json.loads((build_target_path(str(work_db)) / "run_results.json").read_text())
    return sum(
        node["execution_time"]
        for node in results["results"]
        if node["unique_id"].split(".")[0] in ("model", "seed")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--landing", type=Path, help="a landing zone to reuse (else generated)")
    args = parser.parse_args()
    landing = landing_zone(args.scale, args.days, args.landing)
    size = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file())
    read = duckdb_read_seconds(landing)
    with tempfile.TemporaryDirectory() as folder:
        read_to_file = duckdb_read_seconds(landing, str(Path(folder) / "floor.duckdb"))
    with tempfile.TemporaryDirectory() as folder:
        wall, peak, stages, work_db = run_refresh(landing, Path(folder))
        models = model_sql_seconds(work_db)
        shutil.rmtree(build_target_path(str(work_db)), ignore_errors=True)
    floor = read + models
    print(
        f"landing zone: {landing} ({size / 2**30:.2f} GiB, scale {args.scale:g}, {args.days} days)"
    )
    print(f"siyu refresh: {wall:.1f} s, peak RSS {peak / 2**30:.2f} GiB (process and children)")
    print(f"  {stages}")
    print(
        f"floor: {floor:.1f} s = DuckDB reading the files {read:.1f} s "
        f"+ the dbt models' SQL {models:.1f} s"
    )
    print(f"ratio refresh / floor: {wall / floor:.2f}")
    print(
        "parse and load / DuckDB reading the files: "
        f"{stage_seconds(stages, 'parse and load') / read:.2f} "
        f"(DuckDB reading them into a database file instead of memory: {read_to_file:.1f} s)"
    )


if __name__ == "__main__":
    main()
