"""Benchmark: the time of a one-day refresh on 30 vs 180 days of history.

    .venv/bin/python benchmarks/one_day_refresh.py [--scale 0.05] [--days 30 180]

For each history length: generate a landing zone, hold back the last day's files, refresh
everything else, then land the last day's files (new orders, visits, users, re-exports with late
refunds, article re-fetches, spend...) and time `refresh --date <last day>`, as the daily schedule
runs it (on Dagster's persistent instance, as `siyu refresh` does). Prints the figures, the
one-day refresh's time per stage, and the ratio; a daily run whose cost follows the new data has
a ratio close to 1.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from orchestration.runner import run_refresh
from orchestration.settings import SiyuSettings
from synthetic.generator import GeneratorSettings, generate_landing_zone


def measure(days: int, scale: float, root: Path) -> tuple[float, float, str]:
    landing = root / f"landing_{days}"
    start = date(2026, 11, 1) - timedelta(days=days)
    generate_landing_zone(
        GeneratorSettings(out=landing, days=days, scale=scale, seed=11, start=start)
    )
    settings = SiyuSettings(
        landing_dir=str(landing),
        warehouse_path=str(root / f"w{days}" / "siyu.duckdb"),
        work_db_path=str(root / f"w{days}" / "siyu.work.duckdb"),
        logs_dir=str(root / f"w{days}" / "logs"),
        dagster_home=str(root / f"w{days}" / "dagster_home"),
        pii_salt="bench",
    )
    last = start + timedelta(days=days - 1)
    held_back = [path for path in landing.rglob(f"{last.isoformat()}.*") if path.is_file()]
    holding = root / f"held_back_{days}"
    for path in held_back:
        target = holding / path.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    # Dagster's persistent instance in the settings' DAGSTER_HOME, as `siyu refresh` and the
    # daily schedule run (its event log is part of a run's cost); no WeChat fetch
    began = time.perf_counter()
    assert run_refresh(settings, end=last - timedelta(days=1), fetch_from_wechat=False).success
    full = time.perf_counter() - began
    for path in held_back:
        (holding / path.relative_to(landing)).rename(path)
    began = time.perf_counter()
    outcome = run_refresh(settings, start=last, end=last, fetch_from_wechat=False)
    assert outcome.success
    one_day = time.perf_counter() - began
    return full, one_day, outcome.timing_line()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--days", type=int, nargs=2, default=[30, 180])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = {days: measure(days, args.scale, Path(folder)) for days in args.days}
    for days, (full, one_day, stages) in results.items():
        print(
            f"{days:>4} days of history: full refresh {full:7.1f} s, one-day refresh "
            f"{one_day:6.1f} s\n       one-day {stages}"
        )
    short, long = (results[d][1] for d in args.days)
    print(f"one-day refresh ratio {args.days[1]} / {args.days[0]} days: {long / short:.2f}")


if __name__ == "__main__":
    main()
