"""The web benchmark: the notice endpoint and the portal page under load.

Serves duecourse (one uvicorn worker, SQLite) and a bare Starlette endpoint
returning a constant, each in its own subprocess on 127.0.0.1, and measures
in the same run:

- throughput: `wrk` for a fixed duration with a fixed number of connections
  (or, without `wrk`, an async httpx loop with a fixed request count);
- latency at a fixed rate: an async httpx loop sending requests on a fixed
  schedule (500 per second by default), timed from each request's scheduled
  start, so a server that falls behind shows it.

Targets: the notice endpoint at half the bare endpoint's throughput or better,
and its p99 under 25 ms at 500 requests per second. Figures go to stdout and
`bench/web/out/results.json`. Loopback only; the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from duecourse.adapters.db.engine import make_engine, migrate
from duecourse.adapters.db.models import Client, Contact, Invoice, Notice
from duecourse.adapters.links import SignedLinks
from duecourse.bootstrap import today
from duecourse.entrypoints.web.context import client_signature

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SECRET = "bench-secret"
NOTICE_KEY = "pk_bench"
NOTICE_SECRET = "bench-notice-secret"
CLIENTS = 1000


def main() -> None:
    options = _options()
    folder = Path(tempfile.mkdtemp(prefix="duecourse-web-bench-"))
    try:
        database = f"sqlite:///{folder / 'bench.db'}"
        _say(f"seeding {CLIENTS} clients")
        client_id = _seed(database)
        token = SignedLinks(SECRET, f"http://{HOST}", 30).token(
            client_id, today() + timedelta(days=30)
        )
        results = _measure(options, folder, database, token)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    OUT.mkdir(exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    _report(results)


def _say(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=int, default=500, help="requests per second")
    parser.add_argument("--seconds", type=int, default=10, help="of the fixed rate")
    return parser.parse_args()


def _seed(database: str) -> int:
    """A book of clients with overdue invoices; acme has an active notice."""
    engine = make_engine(database)
    migrate(engine)
    now = datetime.now(UTC)
    day = today()
    with Session(engine) as session:
        for n in range(CLIENTS):
            client = Client(
                external_id="acme" if n == 0 else f"client-{n}",
                name=f"Client {n}",
                country="BR",
                time_zone="America/Sao_Paulo",
                language="pt_BR",
                currency="BRL",
                segment="smb",
                rule_name=None,
                created_at=now,
            )
            session.add(client)
            session.flush()
            session.add(
                Contact(
                    client_id=client.id,
                    name="Maria",
                    email="finance@example.com.br",
                    phone=None,
                    receives_bills=True,
                )
            )
            for k in range(3):
                session.add(
                    Invoice(
                        client_id=client.id,
                        number=f"INV-{n}-{k}",
                        currency="BRL",
                        amount=Decimal("1000.00"),
                        balance=Decimal("1000.00"),
                        issue_date=day - timedelta(days=60 + 30 * k),
                        due_date=day - timedelta(days=20 + 30 * k),
                        status="open",
                        next_action_on=day,
                    )
                )
            session.add(
                Notice(
                    client_id=client.id,
                    stage_key="pending_notice",
                    template="overdue_payment",
                    active=True,
                    created_on=day,
                )
            )
        session.commit()
        acme = session.query(Client).filter_by(external_id="acme").one()
        client_id = acme.id
    engine.dispose()
    return client_id


def _measure(
    options: argparse.Namespace, folder: Path, database: str, token: str
) -> dict[str, Any]:
    environ = {
        **os.environ,
        "DUECOURSE_DATABASE_URL": database,
        "DUECOURSE_SECRET_KEY": SECRET,
        "DUECOURSE_BASE_URL": f"http://{HOST}",
        "DUECOURSE_NOTICE_KEY": NOTICE_KEY,
        "DUECOURSE_NOTICE_SECRET": NOTICE_SECRET,
        "DUECOURSE_LOG_LEVEL": "WARNING",
    }
    signature = client_signature(NOTICE_SECRET, "acme")
    with (
        _server("duecourse_app", environ, folder) as duecourse,
        _server("bare_app", environ, folder) as bare,
    ):
        urls = {
            "bare": f"{bare}/constant",
            "notice": f"{duecourse}/notices/acme?key={NOTICE_KEY}&sig={signature}",
            "portal": f"{duecourse}/portal/{token}",
        }
        for url in urls.values():
            response = httpx.get(url)
            assert response.status_code == 200, (url, response.status_code)

        throughput = {}
        latency = {}
        for name, url in urls.items():
            _say(f"throughput of {name}")
            throughput[name] = _throughput(url, options)
        for name, url in urls.items():
            _say(f"latency of {name} at {options.rate} requests per second")
            latency[name] = asyncio.run(_fixed_rate(url, options.rate, options.seconds))

    notice, bare_rps = throughput["notice"]["rps"], throughput["bare"]["rps"]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "tool": throughput["bare"]["tool"],
        "throughput": throughput,
        "latency": latency,
        "targets": {
            "notice_vs_bare": round(float(notice) / float(bare_rps), 3),
            "notice_vs_bare_met": float(notice) >= float(bare_rps) / 2,
            "notice_p99_ms": latency["notice"]["p99_ms"],
            "notice_p99_met": float(latency["notice"]["p99_ms"]) < 25,
        },
    }


@contextmanager
def _server(factory: str, environ: dict[str, str], folder: Path) -> Iterator[str]:
    port = _free_port()
    log = (folder / f"{factory}.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", f"apps:{factory}", "--factory",
            "--host", HOST, "--port", str(port), "--workers", "1",
            "--log-level", "warning", "--no-access-log", "--app-dir", str(HERE),
        ],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_for(port, process)
        yield f"http://{HOST}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server on port {port} exited early")
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the server on port {port} did not start in 30 s")


def _throughput(url: str, options: argparse.Namespace) -> dict[str, Any]:
    """Requests per second with a fixed number of connections, as fast as it goes."""
    assert url.startswith(f"http://{HOST}:")
    if shutil.which("wrk"):
        return _wrk(url, options)
    count = options.duration * 500
    return asyncio.run(_closed_loop(url, options.connections, count))


def _wrk(url: str, options: argparse.Namespace) -> dict[str, Any]:
    subprocess.run(
        ["wrk", "-t1", "-c8", "-d2s", url], capture_output=True, check=True
    )  # warm-up
    done = subprocess.run(
        [
            "wrk", "-t1", f"-c{options.connections}", f"-d{options.duration}s",
            "--latency", url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=options.duration + 30,
    )  # fmt: skip
    rps = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", done.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "tool": "wrk",
        "rps": float(rps.group(1)) if rps else 0.0,
        "p99_ms_saturated": round(float(p99.group(1)) * scale[p99.group(2)], 2)
        if p99
        else None,
        "errors": int(errors.group(1)) if errors else 0,
        "connections": options.connections,
        "seconds": options.duration,
    }


async def _closed_loop(url: str, connections: int, count: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=connections)
    remaining = iter(range(count))
    errors = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for _ in remaining:
            response = await client.get(url)
            errors += response.status_code != 200

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return {
        "tool": "httpx",
        "rps": round(count / elapsed, 1),
        "errors": errors,
        "connections": connections,
        "requests": count,
    }


async def _fixed_rate(url: str, rate: int, seconds: int) -> dict[str, Any]:
    """Send `rate * seconds` requests on a fixed schedule; latency from schedule.

    A bare HTTP/1.1 keep-alive client on asyncio streams: httpx costs about a
    millisecond of CPU per request, which on a small machine would measure
    the load generator rather than the server.
    """
    parts = httpx.URL(url)
    assert parts.host == HOST
    target = parts.raw_path.decode()
    request = f"GET {target} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()

    async def one(due: float) -> None:
        nonlocal errors
        connection = (
            idle.pop() if idle else await asyncio.open_connection(HOST, parts.port)
        )
        reader, writer = connection
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            await reader.readexactly(int(length.group(1)) if length else 0)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            errors += 1
            writer.close()
            return
        latencies.append(loop.time() - due)
        errors += not head.startswith(b"HTTP/1.1 200")
        idle.append(connection)

    for warm in range(50):
        await one(loop.time() + warm * 0)
    latencies.clear()
    start = loop.time() + 0.05
    tasks = []
    for index in range(rate * seconds):
        # Each request starts at its time, whatever the ones before it did.
        due = start + index / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    for _, writer in idle:
        writer.close()

    latencies.sort()
    return {
        "rate": rate,
        "requests": rate * seconds,
        "achieved_rps": round(len(latencies) / elapsed, 1),
        "errors": errors,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p90_ms": round(_percentile(latencies, 0.90) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
    }


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def _report(results: dict[str, Any]) -> None:
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
