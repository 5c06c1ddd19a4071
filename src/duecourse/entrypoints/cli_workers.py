"""`duecourse run-distributed`, `worker` and `beat`: the run on Celery workers.

Celery is an optional part (`pip install duecourse[scale]`), so it is imported
only when one of these commands runs: every other command works without it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from duecourse.bootstrap import Container, today

_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}


@click.command(name="run-distributed")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to run for (YYYY-MM-DD); today by default.",
)
@click.option(
    "--shards",
    type=click.IntRange(1, 1024),
    default=None,
    help="How many tasks to split the run into; DUECOURSE_SHARDS by default.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=3600,
    show_default=True,
    help="Seconds to wait for every shard to report.",
)
@click.option("--no-send", is_flag=True, help="Queue messages but do not deliver them.")
def run_distributed(
    as_of: Any, shards: int | None, timeout: float, no_send: bool
) -> None:
    """Split the run into shards by client and wait for the workers to do them."""
    from duecourse.entrypoints import workers

    workers.check_shared(_container().settings)
    day = as_of.date() if as_of is not None else today()
    count = shards or workers.worker_settings().shards
    done = workers.fan_out_run(day, count, timeout=timeout)
    click.echo(done.summary.line())
    spread = ", ".join(f"{n} on {w}" for w, n in sorted(Counter(done.workers).items()))
    click.echo(f"{count} shard(s): {spread}")
    if not no_send:
        workers.app.send_task(workers.DELIVER_OUTBOX)
        click.echo("delivery of the outbox queued")


@click.command(context_settings=_PASS_THROUGH)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(celery_args: tuple[str, ...]) -> None:
    """Start a Celery worker; further options go to Celery (--concurrency 4)."""
    from duecourse.entrypoints import workers

    workers.check_shared(_container().settings)
    workers.app.worker_main(["worker", "--loglevel", "INFO", *celery_args])


@click.command(context_settings=_PASS_THROUGH)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def beat(celery_args: tuple[str, ...]) -> None:
    """Start Celery beat: the daily run and the outbox drain, once for all."""
    from duecourse.entrypoints import workers

    workers.app.start(["beat", "--loglevel", "INFO", *celery_args])


def _container() -> Container:
    obj = click.get_current_context().obj
    assert isinstance(obj, Container)
    return obj
