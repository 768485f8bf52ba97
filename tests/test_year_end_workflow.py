"""The year-end as the administrator lives it: corrections, status from the archive, one run at a
time, checks before signing, Ctrl-C. Every test runs ``archiver`` as a process."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from tests.fixtures.cli import COMMAND, CliResult, cli_env, run_cli
from tests.fixtures.pdf import appearance_text
from tests.fixtures.school import corrected_export, school_folder
from tests.fixtures.storage import MotoS3

PASSPHRASE = {"ARCHIVER_SIGNER_PASSPHRASE": "demo"}


def run(folder: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    return run_cli(*args, cwd=folder, env={**PASSPHRASE, **(env or {})}, timeout=600)


def records(room: Path) -> list[str]:
    """Every complete record in a local location, as ``class/kind/vN``."""
    return sorted(
        "/".join(marker.parent.relative_to(room).parts[2:]) for marker in room.rglob("bagit.txt")
    )


def states(folder: Path, *args: str) -> dict[str, str]:
    result = run(folder, "status", "--json", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return {c["class_id"]: c["state"] for c in result.json()["classes"]}


def test_a_correction_of_one_class_then_status_and_its_advice(
    tmp_path: Path, small_school: Path
) -> None:
    folder = school_folder(tmp_path / "school", small_school)
    first = run(folder, "year-end", "--source", "export.json")
    assert first.returncode == 0, first.stdout + first.stderr
    before = records(folder / "room-1")
    assert before == [
        "_export/journal_export/v1",
        "_inventory/inventory/v1",  # the year's опись дел
        "c1a/class_journal/v1",
        "c1a/final_marks/v1",  # the statement of the council's decisions (no marks)
        "c5a/class_journal/v1",
        "c5a/final_marks/v1",
        "club1/class_journal/v1",
    ]
    school_times(folder, first)
    fixed = corrected_export(folder)  # a teacher fixed one current mark in 5 «А»

    # without a reason: refused before anything is rendered, naming the changed document
    refused = run(folder, "year-end", "--source", fixed.name)
    assert refused.returncode == 2
    assert "журнал 5 «А»" in refused.stderr and "--correction" in refused.stderr
    assert "сводная ведомость" not in refused.stderr  # a current mark is not on the statement
    assert "Вёрстка" not in refused.stderr

    # with a reason, for the one class: one new version of one document (and of the export)
    corrected = run(
        folder, "year-end", "--source", fixed.name, "--class", "c5a",
        "--correction", "исправлена оценка по русскому языку",
    )  # fmt: skip
    assert corrected.returncode == 0, corrected.stdout + corrected.stderr
    new = sorted(set(records(folder / "room-1")) - set(before))
    assert new == ["_export/journal_export/v2", "c5a/class_journal/v2"]
    assert records(folder / "room-2") == records(folder / "room-1")
    manifest = json.loads(
        next((folder / "room-1").rglob("c5a/class_journal/v2/archive-record.json")).read_text()
    )
    assert manifest["correction"]["reason"] == "исправлена оценка по русскому языку"
    assert manifest["correction"]["replaces"].endswith("c5a/class_journal/v1")
    # the statement and the year's inventory stayed as they were
    assert "новых 2, без изменений 2" in corrected.stdout, corrected.stdout

    # status: every class archived (not «не сверстан»), and no advice into a refusal
    status = run(folder, "status")
    assert status.returncode == 0, status.stderr
    assert "не сверстан" not in status.stdout
    assert "Все классы и опись дел в архиве в двух копиях и проверены." in status.stdout
    assert "Опись дел: сохранена в двух копиях и проверена" in status.stdout
    # the old advice, followed anyway: nothing rendered, nothing refused, every class «без изменений»
    again = run(folder, "year-end", "--source", fixed.name)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("в архиве в двух копиях, без изменений") == 3, again.stdout
    assert "Вёрстка: делать нечего" in again.stderr
    assert records(folder / "room-1") == sorted([*before, *new])

    # a second computer: only the settings, the keys and the two copies
    other = tmp_path / "second-machine"
    other.mkdir()
    for name in ("archiver.toml", "keys", "room-1", "room-2"):
        source = folder / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, other / name)
    second = run(other, "status")
    assert second.returncode == 0, second.stderr
    assert "ещё не запускалось" not in second.stdout + second.stderr
    assert second.stdout.count("сохранён в двух копиях") == 3, second.stdout
    assert "Дальше:" in second.stdout and "verify" in second.stdout
    expected = {"c1a": "stored_both", "c5a": "stored_both", "club1": "stored_both"}
    for year in ("2025", "2025/2026", "2025-2026", "2026"):
        assert states(other, "--year", year) == expected
    assert run(other, "verify").returncode == 0  # the advice, followed
    assert set(states(other).values()) == {"verified"}
    # its year-end with the corrected export has nothing to do either
    nothing = run(other, "year-end", "--source", str(fixed))
    assert nothing.returncode == 0, nothing.stdout + nothing.stderr
    assert nothing.stdout.count("без изменений") >= 3


SCHOOL_ZONE = ZoneInfo("Asia/Yekaterinburg")  # [storage] timezone of the school's archiver.toml


def school_times(folder: Path, result: CliResult) -> None:
    """The report, the signature mark and the access log show times in the school's zone (UTC+5)."""
    report = json.loads(next(folder.rglob("year-end-report.json")).read_text("utf-8"))
    started = datetime.fromisoformat(report["started"]).astimezone(SCHOOL_ZONE)
    assert f"Начато: {started:%d.%m.%Y %H:%M}" in result.stdout
    journal = next(folder.rglob("state/**/c5a-class-journal.pdf"))
    widget = next(
        a.get_object()
        for a in PdfReader(journal).pages[0]["/Annots"]
        if a.get_object().get("/FT") == "/Sig"
    )
    mark = appearance_text(widget)
    assert re.search(r"Подписан: \d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d \+0500", mark), mark
    record = "/".join(next((folder / "room-1").rglob("c5a/final_marks/v1")).parts[-5:])
    handed = run(folder, "get", record, "--out", "copy.pdf", "--reason", "проверка времени")
    assert handed.returncode == 0, handed.stdout + handed.stderr
    (entry,) = run(folder, "log", "show", "--json").json()
    at = datetime.fromisoformat(entry["doc"]["at"] if "doc" in entry else entry["at"])
    shown = run(folder, "log", "show").stdout
    assert f"{at.astimezone(SCHOOL_ZONE):%d.%m.%Y %H:%M}" in shown, shown


def test_status_without_settings_and_with_years_it_does_not_know(
    tmp_path: Path, small_school: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    outside = run(empty, "status")
    assert outside.returncode == 2
    assert "archiver.toml не найден" in outside.stderr and "archiver init" in outside.stderr
    assert "ещё не запускалось" not in outside.stderr
    # started by its path and not on PATH: the advice names the command as it was run
    script = Path(sys.executable).parent / "archiver"
    path = os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if p != str(script.parent)
    )
    by_path = subprocess.run(
        [str(script), "status"], cwd=empty, env=cli_env({"PATH": path}),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert by_path.returncode == 2
    assert f"«{script} init»" in by_path.stderr, by_path.stderr
    folder = school_folder(tmp_path / "school", small_school)
    never = run(folder, "status")
    assert never.returncode == 2 and "ещё не запускалось" in never.stderr
    wrong = run(folder, "status", "--year", "двадцать пятый")
    assert wrong.returncode == 2 and "не понимаю учебный год" in wrong.stderr
    assert "Traceback" not in outside.stderr + never.stderr + wrong.stderr


def _wait_for(predicate: object, what: str, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"not seen within {limit} s: {what}")


def _start(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, "year-end", "--source", "export.json", *args],
        cwd=folder,
        env=cli_env(PASSPHRASE),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_two_runs_at_once_and_a_killed_runs_lock(tmp_path: Path, small_school: Path) -> None:
    folder = school_folder(tmp_path / "school", small_school)
    locks = folder / "state" / "locks"
    first = _start(folder, "--class", "c5a", "--workers", "1")
    _wait_for(lambda: any(locks.glob("*.lock")), "the first run's lock")
    (lock,) = locks.glob("*.lock")
    holder = json.loads(lock.read_text("utf-8"))
    assert holder["pid"] == first.pid and holder["purpose"] == "year-end"
    second = run(folder, "year-end", "--source", "export.json", "--class", "club1")
    assert second.returncode == 70, second.stdout + second.stderr
    assert "уже выполняется" in second.stderr
    assert f"{holder['user']}@{holder['host']}" in second.stderr
    assert f"процесс {first.pid}" in second.stderr
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, out + err
    assert not lock.exists()  # given back
    assert records(folder / "room-1") == [
        "_export/journal_export/v1",
        "c5a/class_journal/v1",
        "c5a/final_marks/v1",
    ]

    # a run killed (SIGKILL) leaves its lock behind; the next run takes it over
    killed = _start(folder, "--class", "c1a", "--workers", "1")
    _wait_for(lambda: lock.exists(), "the killed run's lock")
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    assert json.loads(lock.read_text("utf-8"))["pid"] == killed.pid
    after = run(folder, "year-end", "--source", "export.json", "--class", "club1")
    assert after.returncode == 0, after.stdout + after.stderr
    # stderr is not a terminal here: a line per finished class and document
    assert "  Вёрстка: 1/1 club1" in after.stderr
    assert "  Подпись: 1/1 club1-class-journal.pdf" in after.stderr
    assert not lock.exists()
    assert "club1/class_journal/v1" in records(folder / "room-1")


# -- archiver check


def test_check_local_and_s3(
    tmp_path: Path,
    small_school: Path,
    moto_s3: MotoS3,
    locked_bucket: str,
    aws_env: dict[str, str],
) -> None:
    s3 = (
        f'kind = "s3"\nbucket = "{locked_bucket}"\nendpoint_url = "{moto_s3.endpoint_url}"\n'
        'region = "us-east-1"'
    )
    folder = school_folder(tmp_path / "school", small_school, s3)
    good = run(folder, "check", "--json")
    assert good.returncode == 0, good.stdout + good.stderr
    checks = {c["name"]: c for c in good.json()["checks"]}
    assert all(c["ok"] for c in checks.values()), checks
    assert "Object Lock" in checks["Хранилище «secondary»"]["message"]
    assert "отвечает" in checks["Служба штампов времени"]["message"]
    assert "Ключ подписи" in checks and "Шаблоны документов" in checks
    # the probe left nothing in the bucket (a multipart upload started and aborted)
    client = moto_s3.client()
    assert client.list_object_versions(Bucket=locked_bucket).get("Versions") is None
    assert client.list_multipart_uploads(Bucket=locked_bucket).get("Uploads") is None

    # a bucket without Object Lock, and wrong credentials
    plain = "plain-" + locked_bucket[:20]
    client.create_bucket(Bucket=plain)
    (folder / "archiver.toml").write_text(
        (folder / "archiver.toml").read_text("utf-8").replace(locked_bucket, plain), "utf-8"
    )
    unlocked = run(folder, "check", "--no-signer")
    assert unlocked.returncode == 1
    assert "блокировк" in unlocked.stdout and "ОШИБКА" in unlocked.stdout


def test_check_finds_a_missing_folder_a_wrong_key_and_a_silent_tsa(
    tmp_path: Path, small_school: Path
) -> None:
    folder = school_folder(tmp_path / "school", small_school)
    (folder / "room-2").rmdir()
    toml = folder / "archiver.toml"
    toml.write_text(toml.read_text("utf-8").replace("keys/director.p12", "keys/nope.p12"), "utf-8")
    result = run(folder, "check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "room-2 не найдена" in result.stdout
    assert "nope.p12 не найден" in result.stdout
    # year-end stops on the same checks before rendering anything
    stopped = run(folder, "year-end", "--source", "export.json", "--class", "club1")
    assert stopped.returncode == 70, stopped.stdout + stopped.stderr
    assert "проверка перед архивированием не пройдена" in stopped.stderr
    assert "room-2 не найдена" in stopped.stderr
    assert not list((folder / "state").rglob("*.pdf"))
    # a timestamping service that does not answer
    (folder / "room-2").mkdir()
    text = toml.read_text("utf-8").replace("keys/nope.p12", "keys/director.p12")
    text = text.replace('demo_tsa = "keys"', 'tsa_url = "http://127.0.0.1:9"')
    toml.write_text(text, "utf-8")
    silent = run(folder, "check")
    assert silent.returncode == 1, silent.stdout + silent.stderr
    assert "Служба штампов времени: ОШИБКА" in silent.stdout
    assert "Traceback" not in silent.stderr


def test_a_certificate_expiring_soon_is_a_warning(tmp_path: Path, small_school: Path) -> None:
    """Within 30 days of its end the certificate is reported, without stopping a year-end run."""
    from archiver.check import run_checks
    from archiver.settings import load_settings
    from archiver.signing.sign import load_pkcs12
    from archiver.storage.open import open_locations

    folder = school_folder(tmp_path / "school", small_school)
    settings = load_settings(folder / "archiver.toml")
    not_after = load_pkcs12(folder / "keys" / "director.p12", b"demo").identity.not_after
    locations = open_locations(settings.require_storage())
    for days, ok in ((10, False), (40, True)):
        report = run_checks(
            settings, locations, secret=lambda: "demo", now=not_after - timedelta(days=days)
        )
        (item,) = [i for i in report.items if i.name == "Сертификат подписанта"]
        assert item.ok is ok and not item.blocking, item
        assert ("осталось дней: 10" in item.message) is not ok
        assert not report.blocking


def test_check_with_the_directors_key_asks_no_pin(tmp_path: Path, small_school: Path) -> None:
    """``mode = "director"``: the runner does not hold the key; check reports it as the director's."""
    folder = school_folder(tmp_path / "school", small_school)
    toml = folder / "archiver.toml"
    toml.write_text(
        toml.read_text("utf-8").replace('mode = "unattended"', 'mode = "director"'), "utf-8"
    )
    # no passphrase in the environment and no terminal: a prompt would fail the command
    result = run_cli("check", "--json", cwd=folder, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    checks = {c["name"]: c for c in result.json()["checks"]}
    assert checks["Ключ подписи"]["ok"], checks
    assert "у директора" in checks["Ключ подписи"]["message"]
    assert "sign" in checks["Ключ подписи"]["message"]
    assert checks["Сертификат подписанта"]["ok"], checks
    assert "отвечает" in checks["Служба штампов времени"]["message"]
    # year-end runs the same checks before rendering, then stops for the director
    waiting = run_cli(
        "year-end", "--source", "export.json", "--class", "club1", cwd=folder, timeout=600
    )
    assert waiting.returncode == 3, waiting.stdout + waiting.stderr
    assert "ждёт подписи директора" in waiting.stdout
    status = run_cli("status", "--json", cwd=folder, timeout=600)
    assert status.returncode == 0, status.stdout + status.stderr
    shown = {c["class_id"]: c["state"] for c in status.json()["classes"]}
    assert shown["club1"] == "waiting_for_signature", shown
    text = run_cli("status", cwd=folder, timeout=600)
    assert "ждёт подписи директора" in text.stdout, text.stdout + text.stderr


# -- Ctrl-C


def _group(pgid: int) -> list[int]:
    """Processes of the process group (the command and its workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry))
    return found


def _commands(pids: list[int]) -> list[str]:
    return [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode() for pid in pids]


def _interrupt(folder: Path, times: int) -> tuple[int, str, list[int]]:
    """Start year-end on a pty, press Ctrl-C ``times`` while it renders; exit code, output, leftovers."""
    main, secondary = pty.openpty()
    process = subprocess.Popen(
        [*COMMAND, "year-end", "--source", "export.json", "--workers", "2"],
        cwd=folder,
        env=cli_env({**PASSPHRASE, "COLUMNS": "120"}),
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        start_new_session=True,
    )
    os.close(secondary)
    os.set_blocking(main, False)
    output = bytearray()

    def read() -> None:
        try:
            while chunk := os.read(main, 65536):
                output.extend(chunk)
        except (BlockingIOError, OSError):
            pass

    def rendering() -> bool:
        read()
        workers = [p for p in _group(process.pid) if p != process.pid]
        return "Вёрстка".encode() in output and len(workers) >= 2

    _wait_for(rendering, "rendering in two workers")
    for _ in range(times):
        os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        time.sleep(0.05)
    while process.poll() is None:
        read()
        time.sleep(0.05)
    read()
    os.close(main)
    # a fork server interrupted while it started ends itself once started (its parent is
    # gone): left behind is what is still there after that
    deadline = time.monotonic() + 5
    while _group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return process.returncode, output.decode("utf-8", "replace"), _group(process.pid)


@pytest.mark.parametrize("times", [1, 2])
def test_ctrl_c_while_rendering(tmp_path: Path, small_school: Path, times: int) -> None:
    folder = school_folder(tmp_path / "school", small_school)
    code, output, left = _interrupt(folder, times)
    assert code == 130, output
    assert left == [], f"processes left behind: {_commands(left)}"
    assert "Прервано." in output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output
    if times == 1:
        assert "Что успело сделаться" in output and "5 «А»:" in output
        assert "Запустите ту же команду снова" in output
        resumed = run(folder, "year-end", "--source", "export.json")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    for pdf in (folder / "state").rglob("*.pdf"):  # nothing half-written under a final name
        assert pdf.read_bytes().rstrip().endswith(b"%%EOF")
