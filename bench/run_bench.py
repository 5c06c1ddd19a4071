"""Benchmark of the daily run: `duecourse run` on a large book, against raw SQL
and against a book ten times smaller with the same due work.

    .venv/bin/python bench/run_bench.py --database both

Builds the books (SQLite files and/or PostgreSQL databases), times each run
on a fresh copy, checks the work it recorded, prints the figures and writes
them to OUT/results.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from baseline import run_baseline
from book import BuiltBook, build_book
from measure import RunResult, count_work, run_duecourse
from report import machine, print_database, profile_summary, targets
from shape import BookShape, pick_as_of
from stores import Books, PostgresBooks, SqliteBooks

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NAME = "duecourse_bench"
SMALLER = 10


def main() -> None:
    args = _arguments()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    as_of = args.as_of or pick_as_of(date(2026, 3, 2))
    due = round(args.invoices * args.due_share)
    shape = BookShape(args.clients, args.invoices, due, as_of)
    shape.check()
    shape.smaller(SMALLER).check()

    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = {}
    for kind in kinds:
        books = _books(kind, args)
        started = time.perf_counter()
        try:
            results[kind] = bench_database(books, shape, args)
        finally:
            if not args.keep:
                for name in (NAME, f"{NAME}_small", f"{NAME}_run"):
                    books.drop(name)
        results[kind]["bench_seconds"] = round(time.perf_counter() - started, 1)
        print_database(results[kind])

    document = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": machine(_postgres_version(args) if "postgresql" in kinds else None),
        "options": {
            "invoices": args.invoices,
            "clients": args.clients,
            "due_share": args.due_share,
            "repeat": args.repeat,
        },
        "databases": results,
    }
    path = args.out / "results.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"\nwritten: {path}")


def bench_database(books: Books, shape: BookShape, args: Any) -> dict[str, Any]:
    """Build both books, then time the runs and the baseline on fresh copies."""
    small_shape = shape.smaller(SMALLER)
    built = {
        "large": build_book(books, NAME, shape),
        "small": build_book(books, f"{NAME}_small", small_shape),
    }
    for label, book in built.items():
        print(f"{books.kind}: {label} book built in {book.seconds}", flush=True)

    logs = args.out / "logs"
    logs.mkdir(exist_ok=True)
    large_runs, small_runs, baselines = [], [], []
    for attempt in range(args.repeat):
        large_runs.append(_timed_run(books, NAME, shape, logs, f"large-{attempt}"))
        small_runs.append(
            _timed_run(books, f"{NAME}_small", small_shape, logs, f"small-{attempt}")
        )
        books.copy(NAME, f"{NAME}_run")
        baselines.append(run_baseline(books, f"{NAME}_run", shape.as_of))
        print(f"{books.kind}: attempt {attempt + 1} done", flush=True)

    run, small = _median(large_runs), _median(small_runs)
    baseline = sorted(baselines, key=lambda b: b.seconds)[len(baselines) // 2]
    if args.profile:
        books.copy(NAME, f"{NAME}_run")
        stats = args.out / f"profile-{books.kind}.pstats"
        run_duecourse(
            books.url(f"{NAME}_run"),
            shape.as_of,
            logs,
            "profiled",
            profile=stats,
        )
        profile_summary(stats, args.out / f"profile-{books.kind}.txt")

    ratios = {
        "run_vs_baseline": run["seconds"] / baseline.seconds,
        "large_vs_small": run["seconds"] / small["seconds"],
        "run_vs_baseline_in_process": _divide(run["run_seconds"], baseline.seconds),
        "large_vs_small_in_process": _divide(run["run_seconds"], small["run_seconds"]),
    }
    return {
        "database": books.kind,
        # Other work on the machine skews timings; this says how busy it was.
        "load_average": os.getloadavg(),
        "as_of": shape.as_of,
        "books": {label: _book(book) for label, book in built.items()},
        "run": run,
        "small_book": small,
        "baseline": asdict(baseline),
        "ratios": {k: None if v is None else round(v, 3) for k, v in ratios.items()},
        "targets": targets(ratios, max(run["peak_rss_mb"], small["peak_rss_mb"])),
        "work_check": _check(run, small, shape, baseline.inserted),
        "all_attempts": {"large": large_runs, "small": small_runs},
    }


def _timed_run(
    books: Books,
    template: str,
    shape: BookShape,
    logs: Path,
    label: str,
) -> dict[str, Any]:
    name = f"{NAME}_run"
    books.copy(template, name)
    result: RunResult = run_duecourse(books.url(name), shape.as_of, logs, label)
    work = count_work(books, name, shape.as_of)
    print(f"{books.kind}: {label}: {result.seconds:.2f} s", flush=True)
    return {**asdict(result), **asdict(work)}


def _check(
    run: dict[str, Any], small: dict[str, Any], shape: BookShape, baseline: int
) -> str:
    expected = (shape.due_invoices, shape.due_clients, 0)
    problems = [
        f"{label}: {got} actions, {messages} messages, {due} still due"
        for label, got, messages, due in (
            ("large", run["actions"], run["messages"], run["still_due"]),
            ("small", small["actions"], small["messages"], small["still_due"]),
        )
        if (got, messages, due) != expected
    ]
    if baseline != shape.due_invoices:
        problems.append(f"baseline wrote {baseline} actions")
    if problems:
        return "MISMATCH: " + "; ".join(problems)
    return (
        f"ok: each run recorded {shape.due_invoices:,} actions "
        f"({run['actions_by_stage']}) and {shape.due_clients:,} messages, "
        "no invoice left due; the baseline wrote as many actions"
    )


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda r: float(r["seconds"]))[len(runs) // 2]


def _divide(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or not bottom else top / bottom


def _book(book: BuiltBook) -> dict[str, Any]:
    return {
        "invoices": book.shape.invoices,
        "clients": book.shape.clients,
        "due_invoices": book.shape.due_invoices,
        "due_clients": book.shape.due_clients,
        "rows": book.rows,
        "build_seconds": book.seconds,
    }


def _books(kind: str, args: Any) -> Books:
    if kind == "sqlite":
        folder = args.work_dir or Path(tempfile.gettempdir()) / NAME
        return SqliteBooks(folder)
    return PostgresBooks(args.postgres_url)


def _postgres_version(args: Any) -> str:
    url = args.postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql", "both"], default="both"
    )
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=200_000)
    parser.add_argument("--due-share", type=float, default=0.05)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD"
    )
    parser.add_argument("--repeat", type=int, default=1, help="median of N runs")
    parser.add_argument("--profile", action="store_true", help="cProfile one run")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--work-dir", type=Path, default=None, help="SQLite files")
    return parser.parse_args()


if __name__ == "__main__":
    main()
