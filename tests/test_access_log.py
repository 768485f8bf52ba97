"""The access log: every ``get`` and ``extract`` leaves a hash-chained entry in both locations.

Entries are checked without archiver's code (file bytes, sha256, S3 object locks), the
chain is tampered with the way a person with access to the NAS could (edit, remove,
reorder, truncate), and ``archiver log verify`` must name the entry. Appenders racing
for the same number are simulated in one process and run for real in several.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from archiver.archive.access_log import (
    GET,
    AccessLog,
    AccessRequest,
    entry_key,
    os_user,
    verify_log,
)
from archiver.retention import load_policy
from archiver.storage.base import Lock, PutResult, Storage
from archiver.storage.local import LocalStorage
from archiver.storage.locations import Locations
from tests.fixtures.archive import ARTEM, Archive, make_writable, record

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ROOT = Path(__file__).resolve().parent.parent
Y1 = "2025/2026"
STATEMENT = record(Y1, "c5a", "final_marks")


def three_accesses(archive: Archive) -> None:
    """get, extract (with --operator), get."""
    out = archive.tmp / "out"
    for args in (
        ("get", STATEMENT, "--out", str(out / "1.pdf"), "--reason", "запрос бывшего ученика"),
        (
            "extract",
            "--student",
            ARTEM,
            "--out",
            str(out / "2.pdf"),
            "--reason",
            "справка об отметках, вх. № 12 от 01.03.2046",
            "--operator",
            "Иванова М. П.",
        ),
        ("get", STATEMENT, "--out", str(out / "3.pdf"), "--reason", "запрос суда"),
    ):
        result = archive.run(*args)
        assert result.returncode == 0, result.stderr


def log_files(root: Path) -> dict[str, bytes]:
    folder = root / "_access-log"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def tamper(path: Path, data: bytes | None) -> None:
    """Replace (or, with ``None``, remove) a file of the local log, as a person could."""
    make_writable(path)
    if data is None:
        path.unlink()
    else:
        path.write_bytes(data)


# -- entries


def test_each_access_is_a_chained_entry_in_both_locations(archive: Archive) -> None:
    three_accesses(archive)
    assert archive.secondary_root is not None
    primary, secondary = log_files(archive.primary_root), log_files(archive.secondary_root)
    assert list(primary) == ["00000001.json", "00000002.json", "00000003.json"]
    assert primary == secondary
    docs = [json.loads(data) for data in primary.values()]
    previous = None
    for seq, (doc, data) in enumerate(zip(docs, primary.values(), strict=True), 1):
        assert doc["format"] == "archiver-access-log/1"
        assert doc["seq"] == seq
        assert doc["prev_sha256"] == previous
        previous = hashlib.sha256(data).hexdigest()
        assert datetime.fromisoformat(doc["at"]).tzinfo is not None
        assert doc["who"]["os_user"] == os_user()
        assert doc["retention"]["lock_mode"] == "COMPLIANCE"
        assert doc["retention"]["retain_until"].startswith(
            f"{datetime.now().year + 26}-01-01T00:00"
        )
    get1, extract, get2 = docs
    assert get1["action"] == "get"
    assert get1["what"] == {"record_id": STATEMENT}
    assert get1["why"] == "запрос бывшего ученика"
    assert get1["who"]["operator"] == os_user()
    written = (archive.tmp / "out" / "1.pdf").read_bytes()
    assert get1["output"]["sha256"] == hashlib.sha256(written).hexdigest()
    assert get1["sources"] == [
        {"record_id": STATEMENT, "sha256": get1["output"]["sha256"], "location": "primary"}
    ]
    assert extract["action"] == "extract"
    assert extract["what"] == {"school_id": "demo-perm-si", "student_id": ARTEM}
    assert extract["who"]["operator"] == "Иванова М. П."
    assert extract["why"] == "справка об отметках, вх. № 12 от 01.03.2046"
    pdf = (archive.tmp / "out" / "2.pdf").read_bytes()
    assert extract["output"]["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert len(extract["sources"]) == 2
    assert get2["why"] == "запрос суда"
    for path in (archive.primary_root / "_access-log").iterdir():
        assert path.stat().st_mode & 0o777 == 0o444


def test_log_show(archive: Archive) -> None:
    three_accesses(archive)
    shown = archive.run("log", "show")
    assert shown.returncode == 0, shown.stderr
    assert "записей 3" in shown.stdout
    assert "№ 1  " in shown.stdout
    assert f"выдача документа: {STATEMENT}" in shown.stdout
    assert (
        f"выписка итоговых отметок: обучающийся Казаков Артём Михайлович (id {ARTEM}; "
        in shown.stdout
    )
    assert "Иванова М. П." in shown.stdout
    assert "причина: запрос суда" in shown.stdout
    entries = archive.run("log", "show", "--json").json()
    assert [e["seq"] for e in entries] == [1, 2, 3]
    data = (archive.primary_root / "_access-log" / "00000002.json").read_bytes()
    assert entries[1]["sha256"] == hashlib.sha256(data).hexdigest()
    assert entries[2]["prev_sha256"] == entries[1]["sha256"]


def test_refused_requests_are_not_logged(archive: Archive) -> None:
    out = archive.tmp / "taken.pdf"
    out.write_bytes(b"x")
    assert archive.run("get", STATEMENT, "--out", str(out), "--reason", "r").returncode == 2
    assert archive.run("get", STATEMENT, "--out", str(out) + "2", "--reason", " ").returncode == 2
    assert log_files(archive.primary_root) == {}


# -- verification and tampering


def test_verify_passes_on_an_intact_log(archive: Archive) -> None:
    empty = archive.run("log", "verify")
    assert empty.returncode == 0, empty.stderr
    assert "Журнал доступа пуст" in empty.stdout
    three_accesses(archive)
    result = archive.run("log", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Хранилище «primary»" in result.stdout
    assert "записей 3, цепочка не нарушена" in result.stdout
    assert "Журнал доступа в порядке: записей 3, копии в хранилищах совпадают." in result.stdout
    report = archive.run("log", "verify", "--json").json()
    assert report["ok"] is True
    assert [c["entries"] for c in report["locations"]] == [3, 3]


def _edit(folder: Path) -> None:
    path = folder / "00000002.json"
    tamper(path, path.read_bytes().replace("Иванова".encode(), "Петрова".encode()))


def _remove(folder: Path) -> None:
    tamper(folder / "00000002.json", None)


def _swap(folder: Path) -> None:
    two, three = folder / "00000002.json", folder / "00000003.json"
    a, b = two.read_bytes(), three.read_bytes()
    tamper(two, b)
    tamper(three, a)


def _truncate(folder: Path) -> None:
    tamper(folder / "00000003.json", None)


def _forge(folder: Path) -> None:
    """Edit entry 2 and re-link entry 3 to it: the chain is whole again, the copies differ."""
    two, three = folder / "00000002.json", folder / "00000003.json"
    edited = two.read_bytes().replace("Иванова".encode(), "Петрова".encode())
    tamper(two, edited)
    doc = json.loads(three.read_bytes())
    doc["prev_sha256"] = hashlib.sha256(edited).hexdigest()
    tamper(three, (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode())


def _relink(folder: Path) -> None:
    """Change only the link of entry 3 (its prev_sha256)."""
    three = folder / "00000003.json"
    doc = json.loads(three.read_bytes())
    doc["prev_sha256"] = "0" * 64
    tamper(three, (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode())


@pytest.mark.parametrize(
    ("change", "seq", "says"),
    [
        (_edit, 2, "запись № 2"),
        (_remove, 2, "записи № 2 (_access-log/00000002.json) нет: она удалена"),
        (_swap, 2, "лежит запись № 3: записи переставлены"),
        (_truncate, 3, "записи № 3 нет"),
        (_forge, 2, "запись № 2 в хранилищах «primary» и «secondary» различается"),
        (_relink, 3, "запись № 3 изменена: её prev_sha256 не совпадает"),
    ],
    ids=["edited", "removed", "reordered", "last-removed", "forged-chain", "relinked"],
)
def test_verify_names_the_tampered_entry(
    archive: Archive, change: Any, seq: int, says: str
) -> None:
    three_accesses(archive)
    change(archive.primary_root / "_access-log")
    result = archive.run("log", "verify")
    assert result.returncode == 1
    assert says in result.stdout
    assert f"журнал доступа нарушен (записи № {seq}" in result.stderr
    assert "Хранилище «secondary»" in result.stdout
    assert "записей 3, цепочка не нарушена" in result.stdout  # the other copy is intact
    report = archive.run("log", "verify", "--json")
    assert report.returncode == 1
    problems = report.json()["problems"]
    assert {p["location"] for p in problems} <= {"primary", None}
    assert seq in {p["seq"] for p in problems}


def test_verify_reports_an_edit_in_the_chain_alone(tmp_path: Path) -> None:
    """With one location the chain itself shows the edited entry."""
    root = tmp_path / "only"
    root.mkdir()
    locations = Locations([LocalStorage("primary", root)])
    log = AccessLog(locations, load_policy("access_log"), datetime.now().astimezone().tzinfo)  # type: ignore[arg-type]
    for n in range(4):
        log.append(AccessRequest(GET, {"record_id": f"s/y/c/final_marks/v{n + 1}"}, "причина"))
    path = root / entry_key(3)
    tamper(path, path.read_bytes().replace("причина".encode(), "другое".encode()))
    report = verify_log(Locations([LocalStorage("primary", root)]))
    assert not report.ok
    assert [(p.seq, p.code) for p in report.problems] == [(3, "chain")]
    assert "запись № 3" in report.problems[0].message


def test_a_foreign_object_in_the_log_is_reported(archive: Archive) -> None:
    three_accesses(archive)
    folder = archive.primary_root / "_access-log"
    make_writable(folder)
    (folder / "notes.txt").write_text("x")
    result = archive.run("log", "verify")
    assert result.returncode == 1
    assert "посторонний объект" in result.stdout


# -- appending: races, interruptions, an unavailable location


class RacingStorage(LocalStorage):
    """The primary folder, where another appender takes a number just before our first put."""

    def __init__(self, name: str, root: Path, rival: AccessLog) -> None:
        super().__init__(name, root)
        self.rival = rival
        self.raced = False

    def put(self, key: str, data: bytes, lock: Lock) -> PutResult:
        if key.startswith("_access-log/") and not self.raced:
            self.raced = True
            self.rival.append(AccessRequest(GET, {"record_id": "s/y/c/final_marks/v9"}, "соперник"))
        return super().put(key, data, lock)


def _log(locations: list[Storage]) -> AccessLog:
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return AccessLog(Locations(locations), load_policy("access_log"), zone)


def test_a_racing_appender_makes_us_take_the_next_number(tmp_path: Path) -> None:
    nas, usb = tmp_path / "nas", tmp_path / "usb"
    nas.mkdir()
    usb.mkdir()
    rival = _log([LocalStorage("primary", nas), LocalStorage("secondary", usb)])
    ours = _log([RacingStorage("primary", nas, rival), LocalStorage("secondary", usb)])
    result = ours.append(AccessRequest(GET, {"record_id": "s/y/c/final_marks/v1"}, "наш"))
    assert result.seq == 2
    first = json.loads((nas / entry_key(1)).read_bytes())
    second = json.loads((nas / entry_key(2)).read_bytes())
    assert first["why"] == "соперник"
    assert second["why"] == "наш"
    assert second["prev_sha256"] == hashlib.sha256((nas / entry_key(1)).read_bytes()).hexdigest()
    report = verify_log(Locations([LocalStorage("primary", nas), LocalStorage("secondary", usb)]))
    assert report.ok, [p.message for p in report.problems]


APPENDER = """
import sys
from datetime import datetime
from pathlib import Path
from archiver.archive.access_log import GET, AccessLog, AccessRequest
from archiver.retention import load_policy
from archiver.storage.locations import Locations
from archiver.storage.local import LocalStorage

nas, usb, name, count = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
log = AccessLog(
    Locations([LocalStorage("primary", nas), LocalStorage("secondary", usb)]),
    load_policy("access_log"),
    datetime.now().astimezone().tzinfo,
)
sys.stdin.readline()  # start together
for n in range(count):
    log.append(AccessRequest(GET, {"record_id": f"s/y/c/final_marks/v{n + 1}"}, f"{name} {n}"))
"""


def test_concurrent_processes_keep_one_unbroken_chain(tmp_path: Path) -> None:
    nas, usb = tmp_path / "nas", tmp_path / "usb"
    nas.mkdir()
    usb.mkdir()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(nas), str(usb), f"p{i}", "6"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    report = verify_log(Locations([LocalStorage("primary", nas), LocalStorage("secondary", usb)]))
    assert report.ok, [p.message for p in report.problems]
    entries = [json.loads(p.read_bytes()) for p in sorted((nas / "_access-log").iterdir())]
    assert [e["seq"] for e in entries] == list(range(1, 25))
    assert sorted(e["why"] for e in entries) == sorted(
        f"p{i} {n}" for i in range(4) for n in range(6)
    )
    assert len({e["entry_id"] for e in entries}) == 24


def test_an_interrupted_append_is_completed_by_the_next(archive: Archive) -> None:
    assert archive.secondary_root is not None
    # an appender that died after writing the primary copy only
    _log([LocalStorage("primary", archive.primary_root)]).append(
        AccessRequest(GET, {"record_id": STATEMENT}, "прервано")
    )
    halfway = archive.run("log", "verify")
    assert halfway.returncode == 1
    assert (
        "хранилище «secondary»: записи № 1 нет, а в хранилище «primary» она есть" in halfway.stdout
    )
    result = archive.run("get", STATEMENT, "--out", str(archive.tmp / "x.pdf"), "--reason", "r")
    assert result.returncode == 0, result.stderr
    assert "запись № 1 дописана в хранилище «secondary»" in result.stderr
    assert "Обращение записано в журнал доступа: № 2" in result.stdout
    assert log_files(archive.primary_root) == log_files(archive.secondary_root)
    assert archive.run("log", "verify").returncode == 0


def test_with_the_primary_unavailable_the_secondary_takes_the_entry(archive: Archive) -> None:
    assert archive.secondary_root is not None
    assert (
        archive.run(
            "get", STATEMENT, "--out", str(archive.tmp / "1.pdf"), "--reason", "r"
        ).returncode
        == 0
    )
    unmounted = archive.tmp / "nas-unmounted"
    archive.primary_root.rename(unmounted)
    result = archive.run("get", STATEMENT, "--out", str(archive.tmp / "2.pdf"), "--reason", "r")
    assert result.returncode == 0, result.stderr
    assert "хранилище «primary» недоступно" in result.stderr
    assert "№ 2 (хранилища: secondary)" in result.stdout
    down = archive.run("log", "verify")
    assert down.returncode == 1  # not checked everywhere, but not broken either
    assert "Хранилище «primary»" in down.stdout
    assert "недоступно, журнал в нём не проверен" in down.stdout
    assert "проверен не полностью: хранилище «primary» недоступно" in down.stderr
    unmounted.rename(archive.primary_root)
    behind = archive.run("log", "verify")
    assert behind.returncode == 0  # behind, not damaged: entry 2 says «primary» was unavailable
    assert "не хватает последних записей № 2" in behind.stdout
    result = archive.run("get", STATEMENT, "--out", str(archive.tmp / "3.pdf"), "--reason", "r")
    assert result.returncode == 0, result.stderr
    assert "запись № 2 дописана в хранилище «primary»" in result.stderr
    assert archive.run("log", "verify").returncode == 0
    assert list(log_files(archive.primary_root)) == [f"{n:08d}.json" for n in (1, 2, 3)]


# -- S3


def test_access_log_on_s3_is_locked_and_catches_local_tampering(
    s3_archive: Archive, s3_client: S3Client
) -> None:
    archive = s3_archive
    three_accesses(archive)
    assert archive.run("log", "verify").returncode == 0
    bucket = archive.secondary.bucket  # type: ignore[attr-defined]
    local = log_files(archive.primary_root)
    for name, data in local.items():
        key = f"journal/_access-log/{name}"
        head = s3_client.head_object(Bucket=bucket, Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        until = json.loads(data)["retention"]["retain_until"]
        assert head["ObjectLockRetainUntilDate"] == datetime.fromisoformat(until)
        assert s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    _edit(archive.primary_root / "_access-log")
    result = archive.run("log", "verify")
    assert result.returncode == 1
    assert (
        "запись № 2 в хранилищах «primary» и «secondary» различается; изменена копия в «primary»"
        in result.stdout
    )
    assert "журнал доступа нарушен (записи № 2)" in result.stderr
