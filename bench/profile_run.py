"""The duecourse command under cProfile: `profile_run.py STATS ARGS...`.

Used by `run_bench.py --profile` to see where a run's time goes; the stats
file is written even when the command fails.
"""

from __future__ import annotations

import cProfile
import sys

from duecourse.entrypoints.cli import main


def profiled() -> None:
    stats_file, *arguments = sys.argv[1:]
    sys.argv = ["duecourse", *arguments]
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        main()
    finally:
        profiler.disable()
        profiler.dump_stats(stats_file)


if __name__ == "__main__":
    profiled()
