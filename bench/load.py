"""Load test of POST /api/ask beside a bare aiohttp JSON echo, measured in the same run.

    .venv/bin/python bench/load.py [--requests 5000] [--levels 1,16,64] [--distinct]

Starts two servers on 127.0.0.1 (free ports), each its own process: `tthc-bot serve` on a fresh
database, as in production (INFO logs, limits on; the per-IP rate is raised and each client
has its own address through X-Forwarded-For from a trusted proxy, since on loopback every
client is 127.0.0.1), and a bare aiohttp server answering `json_response(await request.json())`.
For each number of concurrent clients it sends the same bounded number of requests to each
(after a warm-up), then prints a table: throughput, p50 and p99 latency, and the bot's share of
the echo's throughput (the figure that does not depend on the machine). Everything stops by
itself; nothing leaves loopback.

Each client is one web-chat user: a session of its own (so every answer loads and saves the
conversation in SQLite), cycling through everyday questions in Vietnamese and English. With
`--distinct`, every question gets a suffix the server has never seen (the worst case: no
remembered search helps).
Targets: at 64 clients, ≥ 25 % of the echo's throughput and p99 ≤ 100 ms.

    .venv/bin/python bench/load.py --replicas [--pg postgresql://…] [--requests 3000] [--levels 1,16,64]

measures instead, side by side in one run, `tthc-bot serve` on SQLite (one process), on
PostgreSQL with one replica, and on PostgreSQL with two replicas, each request of a client going
to the next replica in turn (as a load balancer without sticky sessions sends them: every
follow-up is read from the database the other replica wrote). `--pg` (default: TTHC_TEST_PG)
names a PostgreSQL database to use: each configuration gets a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
LOAD_BEFORE = "?"
QUESTIONS = [
    "giấy phép lao động cần hồ sơ gì", "gia han gpld mat bao lau", "còn lệ phí?",
    "How long does a construction permit take?", "thu tuc cap giay chung nhan dang ky dau tu",
    "IRC cho công ty vốn nước ngoài cần giấy tờ gì", "what is the fee for an investment registration certificate",
    "xin phep xay dung nha may", "báo cáo ĐTM", "điều chỉnh dự án đầu tư", "nộp hồ sơ ở đâu",
    "can I apply for the IRC online", "tạm ngừng dự án đầu tư 6 tháng", "work permit processing time",
    "hôm nay trời có mưa không", "xin chào",
]


# Suffixes that make each question new to the server (a word it does not know, then a number).
UNIQUE = (f"lan{n}" for n in itertools.count(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def echo_server(port: int) -> None:
    """The baseline: a bare aiohttp JSON echo."""
    from aiohttp import web

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(await request.json())

    app = web.Application()
    app.router.add_post("/api/ask", echo)
    app.router.add_get("/healthz", lambda r: web.json_response({"status": "ok"}))  # type: ignore[arg-type,return-value]
    web.run_app(app, host="127.0.0.1", port=port, print=None)


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


async def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server on port {port} exited with {proc.returncode}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


async def run_level(port: int | list[int], clients: int, total: int, distinct: bool = False) -> Result:
    """`total` requests from `clients` concurrent clients (one keep-alive connection each to
    each server); with several ports, each client's requests go to them in turn."""
    ports = [port] if isinstance(port, int) else list(port)
    urls = [f"http://127.0.0.1:{p}/api/ask" for p in ports]
    latencies: list[float] = []
    errors = 0
    left = total
    connector = aiohttp.TCPConnector(limit=clients * len(urls), force_close=False)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def client(n: int) -> None:
            nonlocal left, errors
            headers = {"X-Forwarded-For": f"10.0.{n // 250}.{n % 250 + 1}", "Content-Type": "application/json"}
            i = n
            while left > 0:
                left -= 1
                text = QUESTIONS[i % len(QUESTIONS)]
                if distinct:  # a question never asked before: no remembered search helps
                    text = f"{text} {next(UNIQUE)}"
                body = json.dumps({"text": text, "session": f"load-{n}"}, ensure_ascii=False)
                i += 1
                started = time.perf_counter()
                async with http.post(urls[i % len(urls)], data=body.encode(), headers=headers) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        seconds = time.perf_counter() - started
    return Result(total, seconds, latencies, errors)


def merged(results: list[Result]) -> Result:
    return Result(sum(r.requests for r in results), sum(r.seconds for r in results),
                  [x for r in results for x in r.latencies], sum(r.errors for r in results))


async def measure(levels: list[int], requests: int, rounds: int, distinct: bool = False) -> list[tuple[int, Result, Result]]:
    tmp = Path(tempfile.mkdtemp(prefix="tthc-load-"))
    echo_port, bot_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TTHC_", "TELEGRAM_", "ZALO_"))}
    env.update(TTHC_DB=str(tmp / "load.db"), TTHC_HOST="127.0.0.1", TTHC_PORT=str(bot_port),
               TTHC_API_REQUESTS_PER_MINUTE="100000000", TTHC_USER_MESSAGES_PER_MINUTE="100000000",
               TTHC_TRUSTED_PROXIES="127.0.0.1",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    procs = [
        subprocess.Popen([sys.executable, __file__, "--echo-server", str(echo_port)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL),
    ]
    try:
        await wait_ready(echo_port, procs[0])
        await wait_ready(bot_port, procs[1])
        rows = []
        for clients in levels:
            for port in (echo_port, bot_port):  # warm-up: connections, caches, sessions
                await run_level(port, clients, max(clients * 4, 100))
            # Alternate the two servers in rounds, so a change in the machine's load (other
            # programs) weighs on both alike.
            echoes, bots = [], []
            for _ in range(rounds):
                echoes.append(await run_level(echo_port, clients, requests // rounds))
                bots.append(await run_level(bot_port, clients, requests // rounds, distinct))
            rows.append((clients, merged(echoes), merged(bots)))
        return rows
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def bot_env(db: str, port: int) -> dict[str, str]:
    """The environment of one `tthc-bot serve` under load (limits on, raised; one address a client)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TTHC_", "TELEGRAM_", "ZALO_"))}
    env.update(TTHC_DB=db, TTHC_HOST="127.0.0.1", TTHC_PORT=str(port),
               TTHC_API_REQUESTS_PER_MINUTE="100000000", TTHC_USER_MESSAGES_PER_MINUTE="100000000",
               TTHC_TRUSTED_PROXIES="127.0.0.1",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    return env


CONFIGS = (("SQLite ×1", "sqlite", 1), ("PostgreSQL ×1", "pg", 1), ("PostgreSQL ×2", "pg", 2))


async def measure_replicas(levels: list[int], requests: int, rounds: int, pg_url: str,
                           distinct: bool = False) -> list[tuple[int, list[Result]]]:
    """The three configurations of CONFIGS, each level measured in alternating rounds."""
    import secrets

    import psycopg

    tmp = Path(tempfile.mkdtemp(prefix="tthc-load-"))
    schemas: list[str] = []
    procs: list[subprocess.Popen[bytes]] = []
    ports: list[list[int]] = []
    try:
        for _name, kind, replicas in CONFIGS:
            if kind == "sqlite":
                db = str(tmp / "load.db")
            else:
                schema = "load_" + secrets.token_hex(4)
                with psycopg.connect(pg_url, autocommit=True) as conn:
                    conn.execute(f"CREATE SCHEMA {schema}")
                schemas.append(schema)
                sep = "&" if "?" in pg_url else "?"
                db = f"{pg_url}{sep}options=-csearch_path%3D{schema}"
            group = []
            for _ in range(replicas):
                port = free_port()
                procs.append(subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=bot_env(db, port),
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                await wait_ready(port, procs[-1], timeout=120)
                group.append(port)
            ports.append(group)
        rows = []
        for clients in levels:
            for group in ports:  # warm-up: connections, caches, sessions
                await run_level(group, clients, max(clients * 4, 100))
            results: list[list[Result]] = [[] for _ in ports]
            for _ in range(rounds):
                for i, group in enumerate(ports):
                    results[i].append(await run_level(group, clients, requests // rounds, distinct))
            rows.append((clients, [merged(r) for r in results]))
        return rows
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if schemas:
            with psycopg.connect(pg_url, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")


def replicas_table(rows: list[tuple[int, list[Result]]]) -> str:
    head = " | ".join(f"{name} req/s | {name} p50 | {name} p99" for name, _, _ in CONFIGS)
    lines = [f"| clients | {head} | ×2 / ×1 on PostgreSQL |", "|---|" + "---|" * (3 * len(CONFIGS) + 1)]
    for clients, results in rows:
        cells = " | ".join(f"{r.rps:,.0f} | {r.pct(50):.1f} ms | {r.pct(99):.1f} ms" for r in results)
        lines.append(f"| {clients} | {cells} | {results[2].rps / results[1].rps:.2f} |")
    return "\n".join(lines)


def table(rows: list[tuple[int, Result, Result]]) -> str:
    lines = [
        "| clients | echo req/s | echo p50 | echo p99 | /api/ask req/s | /api/ask p50 | /api/ask p99 | share of echo |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for clients, echo, bot in rows:
        lines.append(
            f"| {clients} | {echo.rps:,.0f} | {echo.pct(50):.1f} ms | {echo.pct(99):.1f} ms | {bot.rps:,.0f} | "
            f"{bot.pct(50):.1f} ms | {bot.pct(99):.1f} ms | {bot.rps / echo.rps:.0%} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per server and level (default 5000)")
    parser.add_argument("--levels", default="1,16,64", help="numbers of concurrent clients (default 1,16,64)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per level (default 5)")
    parser.add_argument("--distinct", action="store_true",
                        help="make every question one the server has not seen (the worst case: no remembered search)")
    parser.add_argument("--replicas", action="store_true",
                        help="SQLite ×1, PostgreSQL ×1 and PostgreSQL ×2 replicas side by side (needs --pg)")
    parser.add_argument("--pg", default=os.environ.get("TTHC_TEST_PG", ""),
                        help="PostgreSQL URL for --replicas (default: TTHC_TEST_PG)")
    parser.add_argument("--echo-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_server:
        echo_server(args.echo_server)
        return 0
    levels = [int(n) for n in args.levels.split(",")]
    global LOAD_BEFORE
    LOAD_BEFORE = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    if args.replicas:
        if not args.pg:
            parser.error("--replicas needs a PostgreSQL database: --pg postgresql://… (or TTHC_TEST_PG)")
        replica_rows = asyncio.run(measure_replicas(levels, args.requests, max(1, args.rounds), args.pg, args.distinct))
        print(replicas_table(replica_rows))
        errors = sum(r.errors for _, results in replica_rows for r in results)
        print(f"\n{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; errors: {errors}; "
              f"{args.requests} requests a level and configuration; load average before: {LOAD_BEFORE}")
        return 0 if errors == 0 else 1
    rows = asyncio.run(measure(levels, args.requests, max(1, args.rounds), args.distinct))
    print(table(rows))
    errors = sum(echo.errors + bot.errors for _, echo, bot in rows)
    clients, echo, bot = rows[-1]
    share, p99 = bot.rps / echo.rps, bot.pct(99)
    print(f"\n{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; errors: {errors}; "
          f"at {clients} clients: {share:.0%} of the echo (target ≥ 25%), p99 {p99:.1f} ms (target ≤ 100 ms); "
          f"{statistics.median(len(r.latencies) for _, r, _ in rows):.0f} requests a level and server; "
          f"load average before: {LOAD_BEFORE}")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
