"""Run a command and write its wall time and peak memory as JSON.

    launch.py RESULT_FILE COMMAND...

Why a launcher: Linux keeps a process's peak-memory mark across exec, so a
child started straight from the bench (which holds a large book generator in
memory) would report the bench's peak as its own. This process is small, so
the command it starts reports only what the command itself used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def launch() -> None:
    result_file, *command = sys.argv[1:]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    result = {
        "seconds": seconds,
        "exit_code": os.waitstatus_to_exitcode(status),
        # Linux reports ru_maxrss in kilobytes.
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }
    Path(result_file).write_text(json.dumps(result))
    sys.exit(0 if result["exit_code"] == 0 else 1)


if __name__ == "__main__":
    launch()
