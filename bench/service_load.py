"""Load on the web service: 50 concurrent archivists searching and downloading on 127.0.0.1.

Makes a demo archive (``archiver demo --classes N`` in a temporary folder) unless
``--config`` names one, adds an archivist account, starts ``archiver serve`` as a
process, logs ``--clients`` browser-like sessions in (not timed), then runs them all
at once: each does ``--rounds`` rounds of one search (a pupil's surname, the results
page) and one download of a record's document (POST with the CSRF token, the file
hash-checked against the ``X-Archiver-SHA256`` header). Prints the number of
requests, errors, requests/s and the latency percentiles per kind of request; every
search and download is also an access log entry, so the figures include the log.

    .venv/bin/python bench/service_load.py [--config archiver.toml] [--clients 50] [--rounds 4]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import Any

import requests

ARCHIVER = [sys.executable, "-c", "from archiver.cli.main import main; main()"]
ACCOUNT, PASSWORD = "bench-archivist", "bench-пароль-нагрузка"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*args: str, cwd: Path) -> str:
    done = subprocess.run([*ARCHIVER, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"archiver {' '.join(args)}: {done.stderr}")
    return done.stdout


def _targets(config: Path, folder: Path) -> tuple[list[str], list[str]]:
    """Surnames to search for and record ids to download, from ``archiver find --json``."""
    found = json.loads(_run("find", "а", "--json", "--config", str(config), cwd=folder))
    surnames = sorted({m["last_name"] for m in found})
    records = sorted(
        {
            rid
            for m in found
            for c in m["classes"]
            for rid in c["records"].values()
            if rid and not rid.split("/")[2].startswith("_")
        }
    )
    return surnames, records


def _session(url: str) -> requests.Session:
    session = requests.Session()
    page = session.get(url + "/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    done = session.post(
        url + "/login/",
        data={"username": ACCOUNT, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
        timeout=60,
    )
    assert done.ok and "/login/" not in done.url, done.url
    return session


def _client(
    url: str,
    session: requests.Session,
    start: Barrier,
    rounds: int,
    surnames: list[str],
    records: list[str],
    seed: int,
) -> list[tuple[str, float, bool]]:
    pick = random.Random(seed)
    results: list[tuple[str, float, bool]] = []
    start.wait()
    for _ in range(rounds):
        began = time.perf_counter()
        try:
            page = session.get(
                url + "/search/",
                params={"q": pick.choice(surnames).lower(), "purpose": "нагрузочный тест"},
                timeout=300,
            )
            ok = page.status_code == 200 and "Найдено:" in page.text
        except requests.RequestException:
            ok = False
        results.append(("search", time.perf_counter() - began, ok))
        began = time.perf_counter()
        try:
            got = session.post(
                url + f"/record/{pick.choice(records)}/download/",
                data={"purpose": "нагрузочный тест"},
                headers={"X-CSRFToken": session.cookies.get("csrftoken", "")},
                timeout=300,
            )
            ok = (
                got.status_code == 200
                and got.headers.get("X-Archiver-SHA256") == hashlib.sha256(got.content).hexdigest()
            )
        except requests.RequestException:
            ok = False
        results.append(("download", time.perf_counter() - began, ok))
    return results


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--config", type=Path, help="archiver.toml of an archive (default: a new demo)"
    )
    parser.add_argument("--classes", type=int, default=4, help="classes of the demo made")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="archiver-load-") as tmp:
        folder = Path(tmp)
        config = args.config
        if config is None:
            _run("demo", "--out", "demo", "--classes", str(args.classes), cwd=folder)
            config = folder / "demo" / "archiver.toml"
        config = config.resolve()
        secret = folder / "password"
        secret.write_text(PASSWORD + "\n", encoding="utf-8")
        _run("users", "add", ACCOUNT, "--role", "archivist", "--replace",
             "--password-file", str(secret), "--config", str(config), cwd=folder)  # fmt: skip
        surnames, records = _targets(config, folder)
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
        server = subprocess.Popen(
            [*ARCHIVER, "serve", "--port", str(port), "--config", str(config)],
            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            sessions = [_session(url) for _ in range(args.clients)]
            start = Barrier(args.clients)
            began = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                futures = [
                    pool.submit(_client, url, s, start, args.rounds, surnames, records, n)
                    for n, s in enumerate(sessions)
                ]
                results = [r for f in futures for r in f.result()]
            seconds = time.perf_counter() - began
        finally:
            server.terminate()
            server.wait(timeout=30)
    errors = sum(1 for _, _, ok in results if not ok)
    print(
        f"clients {args.clients}, rounds {args.rounds}: requests {len(results)}, errors {errors}, "
        f"{seconds:.1f} s, {len(results) / seconds:.1f} requests/s"
    )
    summary: dict[str, Any] = {}
    for kind in ("search", "download"):
        times = [t for k, t, _ in results if k == kind]
        summary[kind] = times
        print(
            f"  {kind:<8} n={len(times)}  median {statistics.median(times) * 1000:.0f} ms  "
            f"p95 {_percentile(times, 0.95) * 1000:.0f} ms  max {max(times) * 1000:.0f} ms"
        )
    every = [t for _, t, _ in results]
    print(f"  all      p95 {_percentile(every, 0.95) * 1000:.0f} ms")
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
