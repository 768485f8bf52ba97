"""``archiver region``: five generated schools on a local cluster and on a real ``dask scheduler``.

Everything runs as processes: the CLI, the scheduler, the workers. Outcomes are read
back independently: the version folders of every record series in both local
locations, the stored PDFs' signatures (pyHanko), the lock files, the files' times.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from archiver.lock import Holder, read_holder
from archiver.storage.base import CRASH_ENV
from tests.fixtures.cli import COMMAND, CliResult, cli_env, run_cli
from tests.fixtures.region import (
    PASSPHRASE,
    SCHOOLS,
    complete_versions,
    make_region,
    school_id,
    versions,
)

DASK = str(Path(sys.executable).parent / "dask")
YEAR = "2025-2026"
IDS = [school_id(n) for n in range(1, SCHOOLS + 1)]


def region_cli(folder: Path, *args: str) -> CliResult:
    return run_cli(
        "region",
        *args,
        "--region",
        str(folder / "region.toml"),
        "--json",
        cwd=folder,
        env=PASSPHRASE,
        timeout=900,
    )


def start_run(folder: Path, *args: str) -> subprocess.Popen[str]:
    """``archiver region year-end --json`` in the background."""
    return subprocess.Popen(
        [*COMMAND, "region", "year-end", "--region", str(folder / "region.toml"), "--json", *args],
        cwd=folder,
        env=cli_env(PASSPHRASE),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(
    condition: object, process: subprocess.Popen[str], what: str, limit: float = 600
) -> None:
    """Poll ``condition()`` until true; fail if ``process`` ends first or time runs out."""
    assert callable(condition)
    deadline = time.monotonic() + limit
    while not condition():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the run ended before {what}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {limit} s")
        time.sleep(0.2)


def lock_file(folder: Path, number: int) -> Path:
    return folder / school_id(number) / "state" / "locks" / f"perm-{number}-{YEAR}.lock"


ALL_SERIES = (
    "_export/journal_export",
    "_inventory/inventory",  # the year's inventory of files, made once every class is there
    "c1a/class_journal",
    "c1a/final_marks",  # the statement of the council's decisions (a class without marks)
    "c5a/class_journal",
    "c5a/final_marks",
    "club1/class_journal",
)
CLUB_SERIES = ("_export/journal_export", "club1/class_journal")


def assert_archived_once(folder: Path, series: tuple[str, ...]) -> None:
    """Every school: each record series exactly one complete version, in both rooms."""
    for number in range(1, SCHOOLS + 1):
        school = folder / school_id(number)
        expected = {f"perm-{number}/{YEAR}/{s}": ["v1"] for s in series}
        for room in ("room-1", "room-2"):
            assert versions(school / room) == expected, (school, room)
            assert complete_versions(school / room) == expected, (school, room)


def assert_signed(folder: Path, number: int) -> None:
    """The stored club journal of a school carries its director's valid signature (pyHanko)."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    school = folder / school_id(number)
    stored = next(
        (school / "room-2").glob(f"perm-{number}/{YEAR}/club1/class_journal/v1/data/*.pdf")
    )
    ca_bytes = (school / "keys" / "demo-ca.pem").read_bytes()
    _, _, der = pem.unarmor(ca_bytes)
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)], allow_fetching=False)
    with stored.open("rb") as handle:
        signature = PdfFileReader(handle).embedded_signatures[0]  # then the B-LTA timestamp
        status = validate_pdf_signature(signature, context, skip_diff=True)
    assert status.intact and status.valid


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under the schools' rooms and documents: size and modification time."""
    found = {}
    for path in sorted(folder.glob("school-*/room-*/**/*")) + sorted(
        folder.glob("school-*/state/year-end/**/*.pdf")
    ):
        if path.is_file():
            info = path.stat()
            found[str(path.relative_to(folder))] = (info.st_size, info.st_mtime_ns)
    return found


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_region_on_a_local_cluster(tmp_path: Path, region_exports: Path) -> None:
    make_region(tmp_path, region_exports, classes=None)  # every class: the whole year-end
    first = start_run(tmp_path)
    # the last school's lock is held from its validation until its store job ends
    wait_for(lambda: read_holder(lock_file(tmp_path, SCHOOLS)), first, "the last school's lock")
    holder = Holder.loads(lock_file(tmp_path, SCHOOLS).read_bytes())
    assert holder.pid == first.pid and holder.lease_until is not None
    second = region_cli(tmp_path, "year-end", "--school", school_id(SCHOOLS))
    out, err = first.communicate(timeout=900)

    assert second.returncode == 1, second.stdout + second.stderr
    (refused,) = second.json()["schools"]
    assert refused["state"] == "refused"
    assert "уже выполняется" in refused["messages"][0]
    assert f"{holder.who} (процесс {first.pid})" in refused["messages"][0]

    assert first.returncode == 0, out + err
    report = json.loads(out)
    assert report["ok"] and [s["id"] for s in report["schools"]] == IDS
    assert [s["name"] for s in report["schools"]] == [f"МБОУ «Школа № {n}»" for n in range(1, 6)]
    assert all(s["state"] == "complete" and s["jobs"]["done"] == 10 for s in report["schools"])
    events = json_lines(err)
    stages = ("validate", "prepare", "render", "sign", "store")
    assert {e["stage"] for e in events} == set(stages)
    assert {(e["stage"], e["school"]) for e in events if e["status"] == "done"} == {
        (stage, sid) for stage in stages for sid in IDS
    }
    assert not any(lock_file(tmp_path, n).exists() for n in range(1, SCHOOLS + 1))
    assert_archived_once(tmp_path, ALL_SERIES)
    assert_signed(tmp_path, 3)

    status = region_cli(tmp_path, "status")
    assert status.returncode == 0, status.stderr
    schools = status.json()["schools"]
    assert [(s["id"], s["name"], s["complete"], s["states"]) for s in schools] == [
        (sid, f"МБОУ «Школа № {n}»", True, {"verified": 3}) for n, sid in enumerate(IDS, 1)
    ]
    deadline = datetime(2026, 6, 30, tzinfo=UTC).date()
    assert schools[0]["days_left"] == (deadline - datetime.now(UTC).date()).days

    # status comes from the archive: another computer with the school's settings and storage
    # but an empty working folder sees the school's classes stored, and names the school
    other = tmp_path / "other-computer"
    other.mkdir()
    school = tmp_path / school_id(1)
    config = (school / "archiver.toml").read_text(encoding="utf-8")
    for name in ("room-1", "room-2", "keys"):  # the paths of the school's folder
        config = config.replace(f'"{name}', f'"{school}/{name}')
    (other / "archiver.toml").write_text(config, encoding="utf-8")
    elsewhere = run_cli("status", "--json", cwd=other, timeout=300)
    assert elsewhere.returncode == 0, elsewhere.stdout + elsewhere.stderr
    seen = elsewhere.json()
    assert seen["school"]["id"] == "perm-1" and seen["school"]["name"] == "МБОУ «Школа № 1»"
    assert {c["state"] for c in seen["classes"]} <= {"stored_both", "verified"}
    assert not (other / "state" / "year-end").exists()

    # a rerun does nothing: every job's result is published already
    before = snapshot(tmp_path)
    again = region_cli(tmp_path, "year-end")
    assert again.returncode == 0, again.stdout + again.stderr
    assert all(
        s["jobs"] == {"done": 0, "skipped": 10, "failed": 0} for s in again.json()["schools"]
    )
    assert snapshot(tmp_path) == before


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Engine:
    """A ``dask scheduler`` on a free 127.0.0.1 port; ``dask worker`` processes started on demand."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.processes: list[subprocess.Popen[bytes]] = []
        port = self.address.rsplit(":", 1)[1]
        self.start(
            "scheduler", "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"
        )

    def start(
        self, name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """``dask ARGS`` in a session of its own (so that its children die with it at the end)."""
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [DASK, *args],
                env=cli_env({**PASSPHRASE, **(env or {})}),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def worker(
        self, name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """A ``dask worker`` named ``name``, returned once the scheduler has registered it."""
        process = self.start(
            name,
            "worker",
            self.address,
            "--host",
            "127.0.0.1",
            "--nthreads",
            "1",
            "--no-dashboard",
            "--name",
            name,
            *args,
            env=env,
        )
        log = self.logs / f"{name}.log"
        deadline = time.monotonic() + 120
        while "Registered to" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, f"{name} did not register"
            time.sleep(0.2)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(name="engine")
def engine_fixture(tmp_path: Path) -> Iterator[Engine]:
    logs = tmp_path / "engine-logs"
    logs.mkdir()
    engine = Engine(logs)
    try:
        yield engine
    finally:
        engine.stop()


def incomplete(folder: Path) -> list[Path]:
    """Version folders without their marker (a record whose writing was interrupted)."""
    return [
        v
        for v in folder.glob("school-*/room-*/*/*/*/*/v*")
        if v.is_dir() and not (v / "bagit.txt").exists()
    ]


def test_region_on_a_scheduler_with_a_worker_killed_mid_store(
    tmp_path: Path, region_exports: Path, engine: Engine
) -> None:
    # school 5 signs only on a worker started where its director's key is (signer-school-5)
    make_region(tmp_path, region_exports, address=engine.address, signer_host=(5,))
    # a lock left by a run that was killed (its process is gone) is taken over
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = Holder(
        user="operator",
        host=socket.gethostname(),
        pid=int(dead.stdout),
        since=datetime.now(UTC).isoformat(timespec="seconds"),
        token="killed-run",
        purpose="year-end",
    )
    lock_file(tmp_path, 2).parent.mkdir(parents=True)
    lock_file(tmp_path, 2).write_bytes(stale.dumps())
    # the first worker SIGKILLs itself in the middle of its first store (the storage's crash
    # hook), and has no nanny to restart it: its job must be finished by another worker
    doomed = engine.worker(
        "worker-1", "--no-nanny", env={CRASH_ENV: "10"}
    )  # after the 4 location-marker points

    run = start_run(tmp_path)
    wait_for(lambda: doomed.poll() is not None, run, "the first worker's death")
    assert doomed.returncode == -signal.SIGKILL
    assert incomplete(tmp_path), "the worker died before it started writing a record"
    engine.worker("worker-2", "--nworkers", "1")
    out, err = run.communicate(timeout=900)

    # no worker holds school 5's signer: the school is rendered and waits, the others go on
    assert run.returncode == 3, out + err
    report = json.loads(out)
    assert report["engine"] == engine.address
    states = {s["id"]: s["state"] for s in report["schools"]}
    assert states == {**dict.fromkeys(IDS[:4], "complete"), IDS[4]: "waiting_for_signature"}
    assert "signer-school-5" in report["schools"][4]["messages"][0]
    assert not lock_file(tmp_path, 2).exists()
    assert not incomplete(tmp_path)  # the interrupted record was completed, not left

    # the signer's worker joins: the same command signs school 5 there and stores it
    engine.worker("worker-3", "--nworkers", "1", "--resources", "signer-school-5=1")
    again = region_cli(tmp_path, "year-end")
    assert again.returncode == 0, again.stdout + again.stderr
    jobs = [s["jobs"] for s in again.json()["schools"]]
    assert jobs[:4] == [{"done": 0, "skipped": 6, "failed": 0}] * 4
    assert jobs[4] == {"done": 3, "skipped": 3, "failed": 0}  # sign, inventory, store
    assert_archived_once(tmp_path, CLUB_SERIES)
    assert_signed(tmp_path, 5)
    sign = (tmp_path / "school-5/state/region-jobs").glob("*--sign--*.json")
    assert json.loads(next(sign).read_text())["worker"] == "worker-3"


def test_a_school_whose_director_signs_waits_and_the_others_go_on(
    tmp_path: Path, region_exports: Path
) -> None:
    make_region(tmp_path, region_exports, numbers=(1, 2), workers=1)
    config = tmp_path / "school-2" / "archiver.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('mode = "unattended"', 'mode = "director"'), encoding="utf-8")

    first = region_cli(tmp_path, "year-end")
    assert first.returncode == 3, first.stdout + first.stderr  # WAITING_FOR_SIGNATURE
    one, two = first.json()["schools"]
    assert one["state"] == "complete"
    assert two["state"] == "waiting_for_signature"
    assert "ждёт подписи директора" in two["messages"][0]
    assert versions(tmp_path / "school-2" / "room-1") == {}  # nothing stored unsigned
    status = region_cli(tmp_path, "status").json()["schools"]
    # only the club was asked for: the school's two other classes stand not rendered
    assert [s["states"] for s in status] == [
        {"not_rendered": 2, "verified": 1},
        {"not_rendered": 2, "waiting_for_signature": 1},
    ]

    # the director signs the school's documents, then the same command stores them
    signed = run_cli(
        "sign",
        "state/year-end",
        "--config",
        "archiver.toml",
        cwd=tmp_path / "school-2",
        env=PASSPHRASE,
        timeout=300,
    )
    assert signed.returncode == 0, signed.stdout + signed.stderr
    again = region_cli(tmp_path, "year-end")
    assert again.returncode == 0, again.stdout + again.stderr
    one, two = again.json()["schools"]
    assert one["jobs"]["done"] == 0 and two["state"] == "complete"
    for room in ("room-1", "room-2"):
        assert complete_versions(tmp_path / "school-2" / room) == {
            f"perm-2/{YEAR}/{s}": ["v1"] for s in CLUB_SERIES
        }

    # the region's archives checked on the engine: every record in both copies
    checked = region_cli(tmp_path, "verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert [(s["state"], s["verify"]) for s in checked.json()["schools"]] == [
        ("verified", {"records": 2, "counts": {"ok": 2}})
    ] * 2
    # a damaged copy is found and named
    stored = next((tmp_path / "school-1" / "room-2").rglob("data/*.pdf"))
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")
    damaged = region_cli(tmp_path, "verify", "--school", school_id(1))
    assert damaged.returncode == 1
    (school,) = damaged.json()["schools"]
    assert school["state"] == "failed" and "школа school-1" in school["messages"][0]
    # and the exports, validated again: nothing to do (their results are published)
    valid = region_cli(tmp_path, "validate")
    assert valid.returncode == 0
    assert [s["state"] for s in valid.json()["schools"]] == ["valid", "valid"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[school]]\nid = "a"\nconfig = "a.toml"\n',
            "school[1].source: обязательный параметр не задан",
        ),
        (
            'colour = 1\n[[school]]\nid = "a"\nconfig = "a.toml"\nsource = "e.json"\n',
            "colour: неизвестный параметр",
        ),
        (
            '[[school]]\nid = "a"\nconfig = "a.toml"\nsource = "e.json"\n'
            '[[school]]\nid = "a"\nconfig = "a.toml"\nsource = "e.json"\n',
            "код школы «a» указан дважды",
        ),
        ('[[school]]\nid = "a b"\nconfig = "a.toml"\nsource = "e.json"\n', 'код школы "a b"'),
        (
            '[[school]]\nid = "b"\nconfig = "none.toml"\nsource = "e.json"\n',
            "school «b»: config: файл настроек школы",
        ),
        (
            '[engine]\naddress = "8786"\n[[school]]\nid = "a"\nconfig = "a.toml"\nsource = "e.json"\n',
            "engine: адрес планировщика вида tcp://узел:порт",
        ),
        ('name = "x"\n', "не указано ни одной школы"),
    ],
)
def test_a_wrong_region_file_is_refused_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "a.toml").write_text("", encoding="utf-8")
    (tmp_path / "region.toml").write_text(text, encoding="utf-8")
    result = run_cli("region", "status", "--region", "region.toml", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "region.toml" in result.stderr and message in result.stderr, result.stderr
    assert not (tmp_path / "state").exists()


def test_an_unknown_school_is_refused(tmp_path: Path, region_exports: Path) -> None:
    make_region(tmp_path, region_exports, numbers=(1,))
    result = run_cli(
        "region", "year-end", "--region", "region.toml", "--school", "school-9", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "нет школ с кодом school-9; есть: school-1" in result.stderr


def test_a_school_that_fails_for_good_is_named_and_the_others_go_on(
    tmp_path: Path, region_exports: Path
) -> None:
    make_region(tmp_path, region_exports, numbers=(1, 2, 3), workers=1)
    (tmp_path / "school-2" / "room-2").rmdir()  # its second storage location is gone
    result = region_cli(tmp_path, "year-end")
    assert result.returncode == 1, result.stdout + result.stderr
    schools = result.json()["schools"]
    assert [s["state"] for s in schools] == ["complete", "failed", "complete"]
    (message,) = schools[1]["messages"]
    assert message.startswith("школа school-2: проверка перед архивированием не пройдена")
    assert "room-2" in message
    assert versions(tmp_path / "school-2" / "room-1") == {}  # nothing of it stored
    failed = [e for e in json_lines(result.stderr) if e["status"] == "failed"]
    assert [(e["stage"], e["school"]) for e in failed] == [("prepare", "school-2")]
