"""What the bench prints and stores: figures, targets, machine, profile."""

from __future__ import annotations

import io
import os
import platform
import pstats
import sqlite3
from pathlib import Path
from typing import Any

TARGETS = {
    "run_vs_baseline": 3.0,
    "large_vs_small": 1.5,
    "peak_rss_mb": 500.0,
}
"""The requirement's ceilings: ratio to raw SQL, large to small book, memory."""


def machine(postgres_version: str | None) -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version,
    }


def targets(ratios: dict[str, float], peak_rss_mb: float) -> dict[str, bool]:
    return {
        "run_vs_baseline": ratios["run_vs_baseline"] <= TARGETS["run_vs_baseline"],
        "large_vs_small": ratios["large_vs_small"] <= TARGETS["large_vs_small"],
        "peak_rss_mb": peak_rss_mb < TARGETS["peak_rss_mb"],
    }


def print_database(result: dict[str, Any]) -> None:
    run, small, base = result["run"], result["small_book"], result["baseline"]
    ratios, met = result["ratios"], result["targets"]
    print(f"\n== {result['database']} (as of {result['as_of']}) ==")
    for label, book in result["books"].items():
        print(
            f"book {label}: {book['invoices']:,} invoices, {book['clients']:,} "
            f"clients, {book['due_invoices']:,} due ({book['due_clients']:,} "
            f"clients); built in {sum(book['build_seconds'].values()):.0f} s "
            f"{book['build_seconds']}"
        )
    print(f"run, large book : {_run_line(run)}")
    print(f"run, small book : {_run_line(small)}")
    print(
        f"raw SQL baseline: {base['seconds']:.2f} s, {base['selected']:,} rows "
        f"read, {base['inserted']:,} actions written"
    )
    print(
        f"run / baseline  : {ratios['run_vs_baseline']:.1f}x wall, "
        f"{_ratio(ratios['run_vs_baseline_in_process'])} in process "
        f"(target <= {TARGETS['run_vs_baseline']}x) {_verdict(met, 'run_vs_baseline')}"
    )
    print(
        f"large / small   : {ratios['large_vs_small']:.2f}x wall, "
        f"{_ratio(ratios['large_vs_small_in_process'])} in process "
        f"(target <= {TARGETS['large_vs_small']}x) {_verdict(met, 'large_vs_small')}"
    )
    print(
        f"peak RSS        : {run['peak_rss_mb']:.0f} MB large, "
        f"{small['peak_rss_mb']:.0f} MB small (target < "
        f"{TARGETS['peak_rss_mb']:.0f} MB) {_verdict(met, 'peak_rss_mb')}"
    )
    print(f"work checked    : {result['work_check']}")
    print(f"load average    : {result['load_average']} (1, 5, 15 min)")


def profile_summary(stats_file: Path, out: Path, top: int = 30) -> str:
    """The top of the profile by cumulative and by own time, written to `out`."""
    text = io.StringIO()
    stats = pstats.Stats(str(stats_file), stream=text).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    out.write_text(text.getvalue())
    return text.getvalue()


def _run_line(run: dict[str, Any]) -> str:
    inner = run["run_seconds"]
    inside = f"{inner:.1f} s in the run" if inner is not None else "no run line"
    return (
        f"{run['seconds']:.2f} s wall ({inside}), peak {run['peak_rss_mb']:.0f} MB, "
        f"{run['actions']:,} actions, {run['messages']:,} messages"
    )


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _verdict(met: dict[str, bool], key: str) -> str:
    return "MET" if met[key] else "MISSED"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        first = Path("/proc/meminfo").read_text().splitlines()[0]
    except OSError:
        return None
    return round(int(first.split()[1]) / 1024 / 1024, 1)
