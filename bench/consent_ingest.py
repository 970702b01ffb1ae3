"""Consent events over HTTP into `ombud serve` on PostgreSQL, against a raw INSERT of the same rows.

A real `ombud serve` (uvicorn, the group-commit writer; ``--workers N``
processes, one row per N) runs on a scratch PostgreSQL database with the Almi
register. The load generator in this
process keeps N keep-alive connections busy with banner choices as the banner
sends them (the register version and text digest from /consent/banner.json, a
random visitor id, accept all / reject all / mixed, a few with GPC, one
visitor in ten choosing again) for ``--seconds`` after a warm-up, once per
number of connections, and counts every event acknowledged with a 201: each
was committed (the server's synchronous_commit is printed) before its answer
left the server. Latency is from sending a request to reading its answer.
The client is a few lines of HTTP/1.1 on asyncio streams: an HTTP library's
client costs more CPU per request than the server does, on the same two cores.
Where the cores went is printed from /proc: the server, PostgreSQL (all its
processes), the load generator, and others (anything else on the machine).

The baseline writes the same rows (read back from consent_events) into a
table of the same shape and indexes with psycopg: COPY in one transaction
(the ceiling), and executemany with one transaction per choice (what a
request per transaction costs without any of Ombud's work). The ratio is
Ombud's best events/s over each.

Then the kill step: the server is started again (with the most processes),
loaded, and every process of it killed with SIGKILL mid-run; every receipt
acknowledged with a 201 is remembered, the server is started once more, and
the receipts are looked up: all of them must be there ("acknowledged N,
stored N, lost 0"), and the audit chain must verify.

    .venv/bin/python bench/consent_ingest.py [--seconds 20] [--connections 16,64] [--workers 1,2]

The scratch database is created and dropped on the server at 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import psycopg

from ombud import audit, store

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
ROOT = Path(__file__).resolve().parents[1]
ALMI = ROOT / "examples" / "almi" / "ombud.yaml"
OMBUD = ROOT / ".venv" / "bin" / "ombud"
SITE = "https://www.almi.se"
EVENTS = "/api/v1/consent/events"
CHROME = "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
SAFARI = "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
USER_AGENTS = (
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {CHROME}",
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {CHROME} Edg/131.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    f"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) {SAFARI}",
)


@contextmanager
def scratch_postgres() -> Iterator[tuple[str, str]]:
    """(SQLAlchemy URL, psycopg conninfo) of a new database, dropped afterwards."""
    name = f"ombud_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
            f"host=127.0.0.1 port=5432 user=postgres dbname={name}",
        )
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """`ombud serve` in a subprocess, its output in a log file."""

    def __init__(self, url: str, work: Path, workers: int = 1) -> None:
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = work / f"serve-{self.port}.log"
        self.env = {
            **os.environ,
            "OMBUD_DATABASE_URL": url,
            "OMBUD_REGISTER": str(ALMI),
            "OMBUD_SECRET_KEY": "benchmark secret key, not a real one",
            "OMBUD_ALLOWED_ORIGINS": json.dumps([SITE]),
            "OMBUD_BASE_URL": self.base,
            "OMBUD_MAIL_URL": f"file:{work / 'outbox'}",
        }
        self.work = work
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(str(OMBUD), "serve", "--host", "127.0.0.1", "--port", str(self.port)),
                    *("--workers", str(self.workers)),
                ],
                # Its own process group: the kill step kills every process of it at once.
                start_new_session=True,
                env=self.env,
                cwd=self.work,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"ombud serve exited at start; see {self.log}")
            try:
                healthy = httpx2.get(f"{self.base}/healthz", timeout=1).status_code == 200
            except httpx2.TransportError:
                healthy = False
            # Every process listening: connections made before would all go to the first.
            if healthy and self.listeners() >= self.workers:
                return
            time.sleep(0.1)
        sys.exit(f"ombud serve did not answer /healthz in 30 s; see {self.log}")

    def listeners(self) -> int:
        """Sockets listening on the server's port (one per process, SO_REUSEPORT)."""
        port = f":{self.port:04X} "
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
        return sum(1 for line in lines if port in line and line.split()[3] == "0A")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes (all of its group) so far."""
        assert self.process is not None
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[2]) == self.process.pid:  # the process group
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def kill(self) -> None:
        """SIGKILL to every process of the server at once: a crash, not a shutdown."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Load:
    """What the load generator saw in its measured window."""

    seconds: float = 0.0
    posts: int = 0
    events: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    refused: int = 0  # connections refused or broken (the kill step)
    #: Every receipt id acknowledged with a 201, warm-up included.
    acknowledged: list[str] = field(default_factory=list)


def bodies(banner: dict[str, Any]) -> Iterator[tuple[bytes, dict[str, str]]]:
    """Banner choices as the script sends them, with realistic variety."""
    categories = [c["id"] for c in banner["categories"] if not c["required"]]
    returning: list[str] = []
    rng = random.Random(7)
    while True:
        roll = rng.random()
        if roll < 0.45:
            choices = dict.fromkeys(categories, True)
        elif roll < 0.85:
            choices = dict.fromkeys(categories, False)
        else:
            choices = {c: rng.random() < 0.5 for c in categories}
        # One visitor in ten comes back and chooses again (withdrawals, in other batches).
        if returning and rng.random() < 0.1:
            visitor = rng.choice(returning)
        else:
            visitor = str(uuid.uuid4())
            if len(returning) < 10_000:
                returning.append(visitor)
        body = {
            "visitor_id": visitor,
            "choices": choices,
            "method": "banner",
            "language": banner["language"],
            "register_version": banner["register_version"],
            "text_digest": banner["text_digest"],
        }
        headers = {
            "Origin": SITE,
            "Content-Type": "application/json",
            "User-Agent": rng.choice(USER_AGENTS),
        }
        if rng.random() < 0.05:
            headers["Sec-GPC"] = "1"
        yield json.dumps(body, separators=(",", ":")).encode(), headers


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs and reads the answer: a few dozen
    microseconds of CPU a request, where an HTTP library's client costs more than the
    server's handling of it on the same two cores."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            f"{head}\r\n".encode("latin-1")
            + body
        )
        status = int((await self.reader.readline()).split(b" ", 2)[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def drive(
    port: int,
    banner: dict[str, Any],
    *,
    connections: int,
    warmup: float,
    seconds: float,
    kill_after: float | None = None,
    server: Server | None = None,
) -> Load:
    """Keep ``connections`` POSTs in flight for ``warmup + seconds``; measure the last part.

    With ``kill_after``, ``server`` is killed that many seconds in and the load
    goes on until the end, every failure counted.
    """
    load = Load()
    source = bodies(banner)
    loop = asyncio.get_running_loop()
    started = loop.time()
    measure_from = started + warmup
    stop_at = measure_from + seconds

    async def user() -> None:
        connection: Connection | None = None
        while (now := loop.time()) < stop_at:
            content, headers = next(source)
            sent = time.perf_counter()
            try:
                if connection is None:
                    connection = await Connection.open(port)
                status, answer = await connection.post(EVENTS, content, headers)
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                load.refused += 1
                if connection is not None:
                    connection.close()
                connection = None
                await asyncio.sleep(0.05)
                continue
            took = time.perf_counter() - sent
            receipts = (
                [r["receipt_id"] for r in json.loads(answer)["receipts"]] if status == 201 else []
            )
            load.acknowledged.extend(receipts)
            if now >= measure_from:
                load.posts += 1
                load.statuses[status] += 1
                if status == 201:
                    load.events += len(receipts)
                    load.latencies.append(took)
        if connection is not None:
            connection.close()

    async def killer() -> None:
        assert kill_after is not None
        assert server is not None
        await asyncio.sleep(kill_after)
        server.kill()

    tasks = [asyncio.create_task(user()) for _ in range(connections)]
    if kill_after is not None:
        tasks.append(asyncio.create_task(killer()))
    await asyncio.gather(*tasks)
    load.seconds = seconds
    return load


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Cpu:
    """CPU seconds used so far, from /proc: the machine, this process, the server, PostgreSQL."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.started = self.read()

    @staticmethod
    def _process(pid: int | str) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def read(self) -> dict[str, float]:
        cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        busy = sum(int(v) for v in cpu[:8]) - int(cpu[3]) - int(cpu[4])
        postgres = 0.0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if (entry / "comm").read_text().strip() == "postgres":
                        postgres += self._process(entry.name)
                except OSError:
                    continue  # gone meanwhile
        return {
            "machine": busy / TICKS,
            "load generator": time.process_time(),
            "server": self.server.cpu_seconds(),
            "PostgreSQL": postgres,
            "wall": time.perf_counter(),
        }

    def shares(self) -> dict[str, float]:
        """Cores used since the start, by whom; "others" are processes outside the benchmark."""
        now = self.read()
        wall = now["wall"] - self.started["wall"]
        used = {k: (now[k] - self.started[k]) / wall for k in now if k != "wall"}
        machine = used.pop("machine")
        used["others"] = max(0.0, machine - sum(used.values()))
        return used


TICKS = os.sysconf("SC_CLK_TCK")
COLUMNS = (
    "id, choice_id, subject_digest, subject_kind, purpose, category, event, method, "
    "text_digest, register_version, language, gpc, ip_truncated, user_agent_family, created_at"
)


def baselines(conninfo: str, per_choice_sample: int) -> tuple[int, float, float]:
    """(rows, COPY rows/s, executemany rows/s) for the rows the server wrote."""
    with psycopg.connect(conninfo) as connection:
        rows = connection.execute(f"SELECT {COLUMNS} FROM consent_events").fetchall()
        # The same shape and indexes as consent_events; no foreign key to the texts.
        for table in ("raw_copy", "raw_many"):
            connection.execute(f"CREATE TABLE {table} (LIKE consent_events INCLUDING ALL)")
        connection.commit()

        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY raw_copy ({COLUMNS}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        connection.commit()
        copy_rate = len(rows) / (time.perf_counter() - started)

        by_choice: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            by_choice.setdefault(row[1], []).append(row)
        sample = list(by_choice.values())[:per_choice_sample]
        insert = f"INSERT INTO raw_many ({COLUMNS}) VALUES ({', '.join(['%s'] * 15)})"
        started = time.perf_counter()
        written = 0
        with connection.cursor() as cursor:
            for choice_rows in sample:
                cursor.executemany(insert, choice_rows)
                connection.commit()
                written += len(choice_rows)
        many_rate = written / (time.perf_counter() - started)
    return len(rows), copy_rate, many_rate


def banner_of(base: str) -> dict[str, Any]:
    response = httpx2.get(f"{base}/consent/banner.json", params={"lang": "sv"}, timeout=10)
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


def batches(conninfo: str) -> tuple[int, int]:
    """(consent.recorded audit entries, choices they count) so far."""
    with psycopg.connect(conninfo) as connection:
        row = connection.execute(
            "SELECT count(*), coalesce(sum((counts->>'choices')::int), 0) FROM audit_entries "
            "WHERE action = 'consent.recorded'"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def checkpoints(conninfo: str) -> int:
    """Checkpoints PostgreSQL has started so far (timed and requested): one during a row
    flushes every page written since the last, and commits wait behind it."""
    with psycopg.connect(conninfo) as connection:
        row = connection.execute(
            "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"
        ).fetchone()
    assert row is not None
    return int(row[0])


def stack() -> str:
    """The event loop and HTTP parser uvicorn picks here (uvloop and httptools if installed)."""
    found = {name: importlib.util.find_spec(name) is not None for name in ("uvloop", "httptools")}
    return (
        f"{'uvloop' if found['uvloop'] else 'asyncio'} + "
        f"{'httptools' if found['httptools'] else 'h11'}"
    )


@dataclass
class Point:
    workers: int
    connections: int
    load: Load
    batches: int
    choices: int
    cpu: dict[str, float]
    checkpoints: int

    @property
    def rate(self) -> float:
        return self.load.events / self.load.seconds


def run_point(
    server: Server,
    conninfo: str,
    banner: dict[str, Any],
    args: argparse.Namespace,
    connections: int,
) -> Point:
    before = batches(conninfo)
    checkpoints_before = checkpoints(conninfo)
    cpu = Cpu(server)
    load = asyncio.run(
        drive(
            server.port, banner, connections=connections, warmup=args.warmup, seconds=args.seconds
        )
    )
    shares = cpu.shares()
    after = batches(conninfo)
    return Point(
        server.workers,
        connections,
        load,
        after[0] - before[0],
        after[1] - before[1],
        shares,
        checkpoints(conninfo) - checkpoints_before,
    )


def measure(url: str, conninfo: str, work: Path, args: argparse.Namespace) -> None:
    store.upgrade(url)
    with psycopg.connect(conninfo) as connection:
        pg = {
            name: str(connection.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            for name in ("server_version", "synchronous_commit", "fsync")
        }
    print(
        f"date                {dt.datetime.now(dt.UTC).date().isoformat()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the run"
    )
    print(
        f"PostgreSQL          {pg['server_version']}, "
        f"synchronous_commit={pg['synchronous_commit']}, fsync={pg['fsync']}"
    )
    print(
        f"ombud serve         --workers {','.join(map(str, args.workers))} (a row per number "
        f"of processes), uvicorn on {stack()}"
    )
    points: list[Point] = []
    for workers in args.workers:
        server = Server(url, work, workers)
        server.start()
        try:
            banner = banner_of(server.base)
            points.extend(
                run_point(server, conninfo, banner, args, connections)
                for connections in args.connections
            )
        finally:
            server.stop()
    rows, copy_rate, many_rate = baselines(conninfo, args.sample)

    print(
        f"load                {args.warmup:.0f} s warm-up, then {args.seconds:.0f} s measured "
        "per row; every event counted was committed before its 201"
    )
    print()
    print(
        "processes  connections  choices/s  events/s   p50 ms   p99 ms  choices/batch  "
        "cores: server  PostgreSQL  load  others  checkpoints"
    )
    for p in points:
        print(
            f"{p.workers:9d}  {p.connections:11d}  {p.load.posts / p.load.seconds:9.0f}  "
            f"{p.rate:8.0f}  "
            f"{percentile(p.load.latencies, 0.5) * 1000:7.1f}  "
            f"{percentile(p.load.latencies, 0.99) * 1000:7.1f}  "
            f"{p.choices / max(p.batches, 1):13.1f}  {p.cpu['server']:13.2f}  "
            f"{p.cpu['PostgreSQL']:10.2f}  {p.cpu['load generator']:4.2f}  {p.cpu['others']:6.2f}"
            f"  {p.checkpoints:11d}"
        )
        if set(p.load.statuses) != {201}:
            print(f"{'':22}  answers other than 201: {dict(sorted(p.load.statuses.items()))}")
    print()
    best = max(points, key=lambda p: p.rate)
    print(f"raw COPY            {copy_rate:10.0f} rows/s ({rows} rows, one transaction)")
    print(
        f"raw executemany     {many_rate:10.0f} rows/s (one transaction per choice, "
        f"{args.sample} choices, one connection)"
    )
    print(
        f"ratio               {best.rate / copy_rate:10.3f} of the raw COPY rate, "
        f"{best.rate / many_rate:.2f} of executemany per choice "
        f"(best row: {best.workers} process(es), {best.connections} connections)"
    )
    kill_step(url, conninfo, work, args)


def kill_step(url: str, conninfo: str, work: Path, args: argparse.Namespace) -> None:
    """Load, SIGKILL the server mid-run, restart it, and look for every acknowledged event."""
    server = Server(url, work, max(args.workers))
    server.start()
    banner = banner_of(server.base)
    load = asyncio.run(
        drive(
            server.port,
            banner,
            connections=max(args.connections),
            warmup=0,
            seconds=args.kill_after + 2,
            kill_after=args.kill_after,
            server=server,
        )
    )
    server.start()  # again, on the same database: the restart
    try:
        with psycopg.connect(conninfo) as connection:
            row = connection.execute(
                "SELECT count(*) FROM consent_events WHERE id = ANY(%s)", (load.acknowledged,)
            ).fetchone()
        stored = int(row[0]) if row is not None else 0
        answers = banner_of(server.base)  # the restarted server serves again
    finally:
        server.stop()
    engine = store.make_engine(url)
    try:
        with store.transaction(engine) as session:
            verification = audit.verify(session)
    finally:
        engine.dispose()
    lost = len(load.acknowledged) - stored
    print(
        f"kill step           SIGKILL to all {server.workers} process(es) after "
        f"{args.kill_after:.0f} s of load "
        f"({load.refused} requests failed after it), restarted "
        f"({'serving' if answers else 'not serving'})"
    )
    print(
        f"                    acknowledged {len(load.acknowledged)}, stored {stored}, lost {lost}"
    )
    print(
        f"audit chain         {'intact' if verification.ok else verification.reason} "
        f"({verification.checked} entries)"
    )
    if lost or not verification.ok:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--connections",
        type=lambda v: [int(c) for c in v.split(",")],
        default=[16, 64],
        help="comma-separated: one measured row per number of connections",
    )
    parser.add_argument(
        "--workers",
        type=lambda v: [int(c) for c in v.split(",")],
        default=[1, 2],
        help="comma-separated: `ombud serve --workers N` for each N, every connection count",
    )
    parser.add_argument("--sample", type=int, default=5000, help="choices for executemany")
    parser.add_argument("--kill-after", type=float, default=4.0)
    args = parser.parse_args()
    with scratch_postgres() as (url, conninfo), tempfile.TemporaryDirectory() as work:
        measure(url, conninfo, Path(work), args)


if __name__ == "__main__":
    main()
