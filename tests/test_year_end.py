"""The year-end run as the administrator runs it: real processes, real storage, real signatures."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from archiver.demo.generator import export_bytes, generate_export
from archiver.demo.keys import make_demo_keys
from archiver.init_config import DEMO_SIGNER
from archiver.status import verified_classes
from tests.fixtures.cli import COMMAND, CliResult, cli_env, run_cli
from tests.fixtures.storage import MotoS3

CLASSES = ("c5a", "club1")  # a class with marks and a club: three documents, kept small
SCHOOL_ZONE = timezone(timedelta(hours=5))  # the demo export's exported_at offset (Perm)


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated school and demo keys, made once."""
    folder = tmp_path_factory.mktemp("school")
    data = generate_export(classes=3)
    (folder / "export.json").write_bytes(export_bytes(data))
    make_demo_keys(
        folder / "keys", data["school"]["director"]["name"], data["school"]["short_name"]
    )
    return folder


def setup_run(tmp_path: Path, school: Path, secondary: str) -> Path:
    """A run folder: export, keys, archiver.toml with a local primary and the given secondary."""
    import shutil

    shutil.copy(school / "export.json", tmp_path / "export.json")
    shutil.copytree(school / "keys", tmp_path / "keys")
    (tmp_path / "room-1").mkdir()
    (tmp_path / "archiver.toml").write_text(
        '[archive]\nstate_dir = "state"\n\n'
        '[storage.primary]\nkind = "local"\npath = "room-1"\n\n'
        f"[storage.secondary]\n{secondary}\n\n{DEMO_SIGNER}",
        encoding="utf-8",
    )
    return tmp_path


def run(folder: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    """``archiver ARGS`` in ``folder``, with the demo key's passphrase."""
    demo = {"ARCHIVER_SIGNER_PASSPHRASE": "demo", **(env or {})}
    return run_cli(*args, cwd=folder, env=demo, timeout=600)


def year_end(folder: Path, *extra: str, env: dict[str, str] | None = None) -> CliResult:
    classes = [a for c in CLASSES for a in ("--class", c)]
    return run(folder, "year-end", "--source", "export.json", *classes, *extra, env=env)


def documents(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((folder / "state" / "year-end").rglob("*.pdf"))
    }


def report_of(folder: Path) -> dict[str, object]:
    path = next((folder / "state" / "year-end").glob("*/year-end-report.json"))
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def assert_local_copies(root: Path, expected: dict[str, str]) -> None:
    stored = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("data/*.pdf")}
    assert stored == expected


def test_whole_run_local_and_s3(
    tmp_path: Path, school: Path, moto_s3: MotoS3, locked_bucket: str, aws_env: dict[str, str]
) -> None:
    folder = setup_run(
        tmp_path,
        school,
        f'kind = "s3"\nbucket = "{locked_bucket}"\nendpoint_url = "{moto_s3.endpoint_url}"\n'
        'region = "us-east-1"',
    )
    result = year_end(folder)  # the dummy AWS credentials are in the environment (aws_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Итог: всё сделано и проверено." in result.stdout
    report = report_of(folder)
    assert report["ok"] and report["signature_level"] == "B-LTA"
    assert [c["state"] for c in report["classes"]] == ["verified", "verified"]  # type: ignore[index, union-attr]
    checked = [d for c in report["classes"] for d in c["documents"]]  # type: ignore[attr-defined,index]
    assert [(d["level"], d["signature_ok"]) for d in checked] == [("B-LTA", True)] * 3
    text = next((folder / "state" / "year-end").glob("*/year-end-report.txt")).read_text("utf-8")
    assert "хранить до: сводные ведомости — 2052-01-01" in text
    assert "хранить до: журналы — 2032-01-01" in text
    docs = documents(folder)
    assert sorted(docs) == [
        "c5a-class-journal.pdf",
        "c5a-final-marks.pdf",
        "club1-class-journal.pdf",
    ]
    assert_local_copies(folder / "room-1", docs)
    # the S3 copies, asked of S3 itself: same bytes, locked in COMPLIANCE mode until the date
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_s3.endpoint_url, region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=locked_bucket)["Contents"]]
    pdf_keys = [k for k in keys if k.endswith(".pdf")]
    assert len(pdf_keys) == 3
    for key in pdf_keys:
        head = s3.head_object(Bucket=locked_bucket, Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        year = 2052 if "final-marks" in key else 2032  # 1 January after 25 / 5 years, school time
        assert head["ObjectLockRetainUntilDate"] == datetime(year, 1, 1, tzinfo=SCHOOL_ZONE)
        body = s3.get_object(Bucket=locked_bucket, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == docs[key.rsplit("/", 1)[1]]
    # signatures, checked independently with pyHanko's validator
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    _, _, der = pem.unarmor((folder / "keys" / "demo-ca.pem").read_bytes())
    root = asn1_x509.Certificate.load(der)
    signers = {}
    for path in (folder / "state" / "year-end").rglob("*.pdf"):
        with path.open("rb") as handle:
            sig, doc_ts = PdfFileReader(handle).embedded_signatures
            status = validate_pdf_signature(
                sig,
                signer_validation_context=ValidationContext(
                    trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail"
                ),
            )
            assert status.intact and status.valid and status.trusted
            # B-LTA: the document timestamp comes last and covers the whole file
            assert doc_ts.sig_object_type == "/DocTimeStamp"
            assert doc_ts.evaluate_signature_coverage() == SignatureCoverageLevel.ENTIRE_FILE
            signers[path.name] = hashlib.sha256(sig.signer_cert.dump()).hexdigest()
    # each record's manifest names the director (not the timestamping authority)
    director = json.loads((school / "export.json").read_text("utf-8"))["school"]["director"]["name"]
    for manifest_path in (folder / "room-1").rglob("archive-record.json"):
        manifest = json.loads(manifest_path.read_text("utf-8"))
        if manifest["kind"] != "journal_export":
            assert manifest["signature"]["signer_cert_sha256"] == signers[manifest["file"]["name"]]
            assert director in manifest["signature"]["signer"]
    # status says the same
    status = run(folder, "status", "--json")
    assert status.returncode == 0, status.stderr
    states = {c["class_id"]: c["state"] for c in json.loads(status.stdout)["classes"]}
    assert states == {"c1a": "not_rendered", "c5a": "verified", "club1": "verified"}
    assert json.loads(status.stdout)["inventory"] == "not_rendered"  # 1 «А» is not done yet


def test_killed_while_storing_then_resumed(tmp_path: Path, school: Path) -> None:
    folder = setup_run(tmp_path, school, 'kind = "local"\npath = "room-2"')
    (folder / "room-2").mkdir()
    # the storage test hook kills the process with SIGKILL at its 5th write
    killed = year_end(folder, env={"ARCHIVER_TEST_CRASH_AFTER": "5"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    signed_before = documents(folder)
    assert len(signed_before) == 3  # rendering and signing were done before storing began
    status = run(folder, "status")
    assert status.returncode == 0
    assert "сохранён в двух копиях и проверен" not in status.stdout
    resumed = year_end(folder)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Вёрстка: делать нечего" in resumed.stderr
    assert "Подпись: делать нечего" in resumed.stderr
    assert "дописано после прерывания" in resumed.stdout
    assert documents(folder) == signed_before  # nothing was signed again
    for room in ("room-1", "room-2"):
        assert_local_copies(folder / room, signed_before)
        assert not [
            p for p in (folder / room).rglob("*") if ".tmp" in p.name or "incoming" in p.parts
        ]
    again = year_end(folder)
    assert again.returncode == 0
    assert "в архиве без изменений: 2" in again.stdout  # both classes left alone


def test_killed_while_rendering_then_resumed(tmp_path: Path, school: Path) -> None:
    folder = setup_run(tmp_path, school, 'kind = "local"\npath = "room-2"')
    (folder / "room-2").mkdir()
    classes = [a for c in CLASSES for a in ("--class", c)]
    process = subprocess.Popen(
        [*COMMAND, "year-end", "--source", "export.json", "--workers", "1", *classes],
        cwd=folder,
        env=cli_env({"ARCHIVER_SIGNER_PASSPHRASE": "demo"}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((folder / "state").rglob("*.pdf")):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    # whatever was there is whole: no temporary files under final names
    for pdf in (folder / "state").rglob("*.pdf"):
        assert pdf.read_bytes().rstrip().endswith(b"%%EOF")
    resumed = year_end(folder)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    report = report_of(folder)
    assert report["ok"]
    assert_local_copies(folder / "room-2", documents(folder))


def test_other_export_with_the_same_data_changes_nothing(tmp_path: Path, school: Path) -> None:
    """A new export of the same journal (only its time differs): the class is «без изменений»."""
    folder = setup_run(tmp_path, school, 'kind = "local"\npath = "room-2"')
    (folder / "room-2").mkdir()
    assert run(folder, "year-end", "--source", "export.json", "--class", "club1").returncode == 0
    stored = sorted(p.relative_to(folder) for p in (folder / "room-1").rglob("bagit.txt"))
    data = json.loads((folder / "export.json").read_text("utf-8"))
    data["exported_at"] = data["exported_at"].replace("10:00", "11:00")
    (folder / "export.json").write_bytes(export_bytes(data))
    again = run(folder, "year-end", "--source", "export.json", "--class", "club1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "в архиве в двух копиях, без изменений" in again.stdout
    assert sorted(p.relative_to(folder) for p in (folder / "room-1").rglob("bagit.txt")) == stored


def test_no_signer_configured(tmp_path: Path, school: Path) -> None:
    init = run(tmp_path, "init")
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "archive-1").is_dir() and (tmp_path / "archive-2").is_dir()
    (tmp_path / "export.json").write_bytes((school / "export.json").read_bytes())
    result = run(tmp_path, "year-end", "--source", "export.json", "--class", "club1")
    assert result.returncode == 2
    assert "не задан подписант" in result.stderr
    assert "Traceback" not in result.stderr
    again = run(tmp_path, "init")
    assert again.returncode == 2 and "уже существует" in again.stderr


def test_status_before_any_run(tmp_path: Path, school: Path) -> None:
    folder = setup_run(tmp_path, school, 'kind = "local"\npath = "room-2"')
    result = run(folder, "status")
    assert result.returncode == 2
    assert "ещё не запускалось" in result.stderr


def test_year_end_pulls_the_export_over_http(tmp_path: Path, school: Path) -> None:
    """A local HTTP server with a bearer token stands for the journal system's export endpoint."""
    import http.server
    import threading

    folder = setup_run(tmp_path, school, 'kind = "local"\npath = "room-2"')
    (folder / "room-2").mkdir()
    payload = (folder / "export.json").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != "Bearer s3cret":
                self.send_response(401)
                self.end_headers()
                return
            if self.path != "/export.json":
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        token = {"ARCHIVER_SOURCE_TOKEN": "s3cret"}
        ok = run(
            folder, "year-end", "--source", f"{base}/export.json", "--class", "club1", env=token
        )
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert report_of(folder)["ok"]
        denied = run(
            folder, "year-end", "--source", f"{base}/export.json", "--class", "club1",
            env={"ARCHIVER_SOURCE_TOKEN": "wrong"},
        )  # fmt: skip
        assert denied.returncode != 0 and "401" in denied.stderr and "wrong" not in denied.stderr
        missing = run(folder, "year-end", "--source", f"{base}/nope.json", env=token)
        assert missing.returncode == 2 and "не найдена (404)" in missing.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_demo_needs_nothing_and_its_bundle_validates_with_pyhanko(tmp_path: Path) -> None:
    """``archiver demo`` as a newcomer runs it; then pyHanko's own command line, not archiver."""
    result = run_cli("demo", "--out", str(tmp_path / "demo"), "--classes", "3", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Итог: всё сделано и проверено." in result.stdout
    line = next(x for x in result.stdout.splitlines() if "sign validate" in x)
    command = line.split(": ", 1)[1].split()
    journal = Path(command[-1])
    assert journal.name.endswith("-class-journal.pdf") and journal.is_file()
    assert Path(command[0]).name == "pyhanko"
    options = [c for c in command[3:-1] if c != "--pretty-print"]
    for mode in ("validate", "adesverify"):  # the printed command, and the AdES (LTA) one
        checked = subprocess.run(
            [command[0], "sign", mode, *options, "--executive-summary", str(journal)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert checked.returncode == 0, mode + checked.stdout + checked.stderr
        verdicts = [x for x in checked.stdout.splitlines() if x.startswith("DirectorSignature:")]
        assert len(verdicts) == 1 and verdicts[0].endswith(":VALID"), mode + checked.stdout


def test_status_follows_later_verify_runs(tmp_path: Path, school: Path) -> None:
    folder = setup_run(tmp_path, school, 'kind = "local"\npath = "room-2"')
    (folder / "room-2").mkdir()
    done = year_end(folder)
    assert done.returncode == 0, done.stdout + done.stderr

    def states() -> dict[str, str]:
        result = run(folder, "status", "--json")
        assert result.returncode == 0, result.stderr
        return {c["class_id"]: c["state"] for c in json.loads(result.stdout)["classes"]}

    assert states() == {"c1a": "not_rendered", "c5a": "verified", "club1": "verified"}
    (damaged,) = (folder / "room-2").rglob("c5a/final_marks/v1/data/*.pdf")
    damaged.chmod(0o644)
    damaged.write_bytes(damaged.read_bytes()[:-10])
    assert run(folder, "verify").returncode == 1
    assert states() == {"c1a": "not_rendered", "c5a": "stored_both", "club1": "verified"}
    assert re.search(r"5 «А»\s+сохранён в двух копиях\n", run(folder, "status").stdout)
    repaired = run(folder, "verify", "--repair")  # exit 1: it did find damage
    assert "восстановлена 1" in repaired.stdout, repaired.stdout + repaired.stderr
    assert states() == {"c1a": "not_rendered", "c5a": "verified", "club1": "verified"}
    assert run(folder, "verify").returncode == 0
    assert states() == {"c1a": "not_rendered", "c5a": "verified", "club1": "verified"}


REPORT = {
    "started": "2026-06-20T10:00:00+05:00",
    "classes": [{"class_id": "a", "state": "verified"}, {"class_id": "b", "state": "stored_both"}],
    "records": [
        {"record_id": "s/y/a/class_journal/v1", "class_id": "a"},
        {"record_id": "s/y/a/final_marks/v1", "class_id": "a"},
        {"record_id": "s/y/b/class_journal/v1", "class_id": "b"},
    ],
}
BEFORE, AFTER = "2026-06-20T04:00:00.000000+00:00", "2026-07-01T00:00:00.000000+00:00"


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ({}, {"a"}),  # only the run's own verification
        ({"s/y/a/class_journal/v1": {"checked_at": AFTER, "checked_status": "changed"}}, {"a"}),
        (
            {
                "s/y/a/class_journal/v1": {"checked_at": AFTER, "checked_status": "changed"},
                "s/y/a/final_marks/v1": {"checked_at": AFTER, "checked_status": "ok"},
            },
            set(),
        ),
        (
            {
                "s/y/a/class_journal/v1": {"checked_at": AFTER, "checked_status": "repaired"},
                "s/y/a/final_marks/v1": {"checked_at": AFTER, "checked_status": "ok"},
                "s/y/b/class_journal/v1": {"checked_at": AFTER, "checked_status": "ok"},
            },
            {"a", "b"},
        ),
        (  # checks from before the run do not count
            {
                "s/y/a/class_journal/v1": {"checked_at": BEFORE, "checked_status": "changed"},
                "s/y/a/final_marks/v1": {"checked_at": BEFORE, "checked_status": "changed"},
                "s/y/b/class_journal/v1": {"checked_at": BEFORE, "checked_status": "ok"},
            },
            {"a"},
        ),
    ],
)
def test_verified_classes(checks: dict[str, dict[str, str]], expected: set[str]) -> None:
    assert verified_classes(REPORT, checks) == expected  # type: ignore[arg-type]


def test_whole_year_with_its_inventory_of_files(tmp_path: Path, school: Path) -> None:
    """Every class of the year: the 1st class's statement of decisions and the inventory are made,
    signed, stored and verified like the other documents, and status shows the inventory."""
    from pypdf import PdfReader

    folder = setup_run(tmp_path, school, 'kind = "local"\npath = "room-2"')
    (folder / "room-2").mkdir()
    (folder / "archiver.toml").write_text(
        (folder / "archiver.toml").read_text("utf-8")
        + '\n[documents]\nnomenclature = { class_journal = "02-15", final_marks = "02-16" }\n',
        encoding="utf-8",
    )
    result = run(folder, "year-end", "--source", "export.json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = report_of(folder)
    assert report["ok"], report["problems"]
    assert report["inventory"] == "verified"
    docs = documents(folder)
    school_id = json.loads((school / "export.json").read_text("utf-8"))["school"]["id"]
    assert sorted(docs) == sorted(
        [
            "c1a-class-journal.pdf",
            "c1a-final-marks.pdf",  # the statement of decisions: no marks in 1st grade
            "c5a-class-journal.pdf",
            "c5a-final-marks.pdf",
            "club1-class-journal.pdf",
            f"{school_id}-inventory.pdf",
        ]
    )
    text = next((folder / "state" / "year-end").glob("*/year-end-report.txt")).read_text("utf-8")
    assert "хранить до: опись дел — 2052-01-01" in text
    assert "Опись дел: сохранена в двух копиях и проверена" in text
    for room in ("room-1", "room-2"):
        (manifest_path,) = (folder / room).rglob("_inventory/inventory/v1/archive-record.json")
        manifest = json.loads(manifest_path.read_text("utf-8"))
        assert manifest["retention"]["years"] == 25
        assert manifest["retention"]["retain_until"] == "2052-01-01T00:00:00+05:00"
        assert manifest["signature"]["signer"]
        (payload,) = manifest_path.parent.glob("data/*.pdf")
        assert hashlib.sha256(payload.read_bytes()).hexdigest() == docs[payload.name]
    # the inventory lists the five files with their indices and sheets, signed by the director
    (inventory,) = (folder / "state" / "year-end").rglob("*-inventory.pdf")
    reader = PdfReader(inventory)
    page = " ".join(reader.pages[0].extract_text().split())
    assert "Опись дел" in page and "В данную опись внесено 5 (пять) дел с № 1 по № 5" in page
    assert "1 02-15" in page and "2 02-16" in page
    with inventory.open("rb") as handle:
        assert PdfFileReader(handle).embedded_signatures
    verified = run(folder, "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{school_id}/2025-2026/_inventory/inventory/v1" in verified.stdout
