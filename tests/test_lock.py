"""archiver.lock in real processes: a live holder refuses, a killed one is taken over by one process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archiver.lock import Holder, LockBusy, RunLock, read_holder

HOLD = """
import sys, time
from pathlib import Path
from archiver.lock import LockBusy, RunLock
path, go = Path(sys.argv[1]), Path(sys.argv[2])
try:
    with RunLock(path, purpose="test"):
        print("got", flush=True)
        while not go.exists():
            time.sleep(0.02)
except LockBusy as exc:
    print("busy", exc.holder.pid, flush=True)
"""


def hold(path: Path, go: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(go)],
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_for_file(path: Path) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, path
        time.sleep(0.02)


def test_live_holder_refuses_with_who_and_since(tmp_path: Path) -> None:
    path, go = tmp_path / "locks" / "school-2025-2026.lock", tmp_path / "go"
    holder = hold(path, go)
    wait_for_file(path)
    lock = RunLock(path, what="Архивирование школы за 2025/2026 учебный год")
    with pytest.raises(LockBusy) as caught:
        lock.acquire()
    assert caught.value.holder.pid == holder.pid
    assert caught.value.holder.host == socket.gethostname()
    message = str(caught.value)
    assert message.startswith("Архивирование школы за 2025/2026 учебный год уже выполняется")
    assert f"процесс {holder.pid}" in message and str(path) in message
    go.touch()
    assert holder.communicate(timeout=60)[0].strip() == "got"
    assert not path.exists()  # released by its holder
    with lock:
        assert read_holder(path) == lock.holder
    assert not path.exists()


def test_killed_holder_is_taken_over_by_exactly_one(tmp_path: Path) -> None:
    path, go = tmp_path / "run.lock", tmp_path / "go"
    victim = hold(path, tmp_path / "never")
    wait_for_file(path)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    stale = read_holder(path)
    assert stale is not None and stale.pid == victim.pid and stale.stale()
    takers = [hold(path, go) for _ in range(4)]
    deadline = time.monotonic() + 60
    while sum(1 for t in takers if t.poll() is not None) < 3:  # three refused, one holds
        assert time.monotonic() < deadline
        time.sleep(0.05)
    go.touch()
    outputs = [t.communicate(timeout=60)[0].split() for t in takers]
    assert sorted(o[0] for o in outputs) == ["busy", "busy", "busy", "got"]
    (winner,) = [t for t, o in zip(takers, outputs, strict=True) if o[0] == "got"]
    assert {int(o[1]) for o in outputs if o[0] == "busy"} == {winner.pid}
    assert not path.exists()
    assert not list(tmp_path.glob("run.lock.*"))  # no takeover markers or temporary files left


def test_other_host_only_its_lease_tells(tmp_path: Path) -> None:
    path = tmp_path / "run.lock"
    now = datetime.now(UTC)
    elsewhere = Holder(
        user="secretary",
        host="other-computer",
        pid=1,
        since=(now - timedelta(hours=2)).isoformat(),
        token="t1",
        purpose="year-end",
    )
    path.write_bytes(elsewhere.dumps())
    with pytest.raises(LockBusy) as caught:
        RunLock(path).acquire()
    assert "secretary@other-computer" in str(caught.value)
    lapsed = Holder(**{**json.loads(elsewhere.dumps()), "lease_until": now.isoformat()})
    path.write_bytes(lapsed.dumps())
    with RunLock(path, lease=timedelta(seconds=30)) as lock:
        assert lock.holder is not None and read_holder(path) == lock.holder
        lease = read_holder(path)
        assert lease is not None and lease.lease_until is not None
        lock.renew()
        renewed = read_holder(path)
        assert renewed is not None and renewed.lease_until is not None
        assert renewed.lease_until >= lease.lease_until
    assert not path.exists()


def test_reused_pid_is_stale(tmp_path: Path) -> None:
    """A lock naming this very process but another start time (a reused id) is stale."""
    with RunLock(tmp_path / "run.lock") as lock:
        assert lock.holder is not None and not lock.holder.stale()
        if lock.holder.pid_started is None:
            pytest.skip("no /proc here")
        other = Holder(**{**json.loads(lock.holder.dumps()), "pid_started": 1.0})
        assert other.stale()
