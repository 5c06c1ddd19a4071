"""Running `duecourse run` as its own process: wall time, peak memory, work done.

The run is a subprocess, started through a small launcher (launch.py) that
reads the kernel's accounting for that one child (wait4), so its peak
resident memory is its own and not the bench's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from stores import Books

RUN_SECONDS = re.compile(r"run finished .* seconds=([0-9.]+)")
LAUNCHER = Path(__file__).with_name("launch.py")
PROFILER = Path(__file__).with_name("profile_run.py")


@dataclass(frozen=True)
class RunResult:
    seconds: float
    """Wall time of the whole process: start-up, migration check, run."""
    run_seconds: float | None
    """The run's own time, as its closing log line reports it."""
    peak_rss_mb: float
    summary: str


@dataclass(frozen=True)
class Work:
    actions: int
    actions_by_stage: dict[str, int]
    messages: int
    still_due: int


def run_duecourse(
    url: str,
    as_of: date,
    logs: Path,
    label: str,
    profile: Path | None = None,
) -> RunResult:
    """Run `duecourse run --as-of DAY --no-send` on `url` in a fresh folder,
    under cProfile when `profile` names a stats file."""
    arguments = ["run", "--as-of", as_of.isoformat(), "--no-send"]
    if profile is not None:
        command = [sys.executable, str(PROFILER), str(profile), *arguments]
    else:
        command = [str(Path(sys.executable).with_name("duecourse")), *arguments]
    environment = {**os.environ, "DUECOURSE_DATABASE_URL": url}
    logs = logs.resolve()
    stdout_path, stderr_path = logs / f"{label}.out", logs / f"{label}.err"
    measured = logs / f"{label}.json"

    with (
        tempfile.TemporaryDirectory(prefix="duecourse-bench-") as folder,
        stdout_path.open("w") as stdout,
        stderr_path.open("w") as stderr,
    ):
        code = subprocess.call(
            [sys.executable, str(LAUNCHER), str(measured), *command],
            cwd=folder,
            env=environment,
            stdout=stdout,
            stderr=stderr,
        )
    if code != 0:
        raise SystemExit(f"duecourse run failed; see {stderr_path}")

    usage = json.loads(measured.read_text())
    found = RUN_SECONDS.search(stderr_path.read_text())
    return RunResult(
        seconds=usage["seconds"],
        run_seconds=float(found.group(1)) if found else None,
        peak_rss_mb=usage["peak_rss_mb"],
        summary=stdout_path.read_text().strip(),
    )


def count_work(books: Books, name: str, as_of: date) -> Work:
    """What is in the book after a run: actions, messages, invoices still due."""
    mark = "?" if books.kind == "sqlite" else "%s"
    day = as_of.isoformat() if books.kind == "sqlite" else as_of
    connection = books.connect(name)
    try:
        by_stage = connection.execute(
            "SELECT stage_key || '/' || status, count(*) FROM actions GROUP BY 1"
        ).fetchall()
        messages = connection.execute("SELECT count(*) FROM messages").fetchone()
        still_due = connection.execute(
            "SELECT count(*) FROM invoices WHERE status = 'open' "
            f"AND next_action_on <= {mark}",
            (day,),
        ).fetchone()
    finally:
        connection.close()
    stages = {str(key): int(n) for key, n in by_stage}
    return Work(sum(stages.values()), stages, int(messages[0]), int(still_due[0]))
