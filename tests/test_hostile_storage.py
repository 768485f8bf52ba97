"""Two "copies" that are one place (issue 13, point 3), and storage failures named by their cause.

A bind mount of the primary folder used as the secondary (root only: skipped where
``mount`` is not allowed), and one S3 bucket reached through two endpoint addresses:
``store`` refuses, ``verify`` does not say the archive is in order.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.archive import Archive, make_writable, record
from tests.fixtures.cli import run_cli
from tests.fixtures.storage import MotoS3, SignedPdf


@pytest.fixture
def bind_mounted(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    nas, usb = tmp_path / "nas", tmp_path / "usb"
    nas.mkdir()
    usb.mkdir()
    done = subprocess.run(["mount", "--bind", str(nas), str(usb)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"bind mounts not allowed here: {done.stderr!r}")
    try:
        yield nas, usb
    finally:
        subprocess.run(["umount", str(usb)], check=True)


def write_config(folder: Path, primary: str, secondary: str) -> Path:
    config = folder / "archiver.toml"
    config.write_text(
        f"[storage.primary]\n{primary}\n\n[storage.secondary]\n{secondary}\n", encoding="utf-8"
    )
    return config


def test_a_bind_mount_of_the_primary_is_not_a_second_copy(
    tmp_path: Path, bind_mounted: tuple[Path, Path], signed_pdf: SignedPdf
) -> None:
    from tests.fixtures.sites import SPEC_EXPORT

    docs = tmp_path / "out" / "2025-2026" / "5a"
    docs.mkdir(parents=True)
    (docs / "5a-class-journal.pdf").write_bytes(signed_pdf("class_journal", "5a"))
    (tmp_path / "export.json").write_bytes(SPEC_EXPORT.read_bytes())
    write_config(tmp_path, 'kind = "local"\npath = "nas"', 'kind = "local"\npath = "usb"')
    stored = run_cli("store", "out", "--source", "export.json", cwd=tmp_path)
    assert stored.returncode == 2, stored.stdout + stored.stderr
    assert "одно и то же место" in stored.stderr and "«secondary»" in stored.stderr
    assert [p for p in bind_mounted[0].rglob("*") if p.is_file()] == []
    checked = run_cli("verify", cwd=tmp_path)
    assert checked.returncode != 0
    assert "одно и то же место" in checked.stderr
    assert "в порядке" not in checked.stdout


def test_an_archive_stored_then_mounted_twice_is_not_in_order(
    tmp_path: Path, school_years: object, signed_pdf: SignedPdf
) -> None:
    archive = Archive(tmp_path, school_years, signed_pdf)  # type: ignore[arg-type]
    assert archive.run("verify").returncode == 0
    # the secondary disk is swapped for a second name of the primary
    other = tmp_path / "nas-again"
    other.mkdir()
    done = subprocess.run(["mount", "--bind", str(archive.primary_root), str(other)])
    if done.returncode != 0:
        pytest.skip("bind mounts not allowed here")
    try:
        archive.config_text_secondary = 'kind = "local"\npath = "nas-again"\n'
        archive.write_config("")
        checked = archive.run("verify")
        assert checked.returncode != 0, checked.stdout
        assert "одно и то же место" in checked.stderr
    finally:
        subprocess.run(["umount", str(other)], check=True)


def test_one_bucket_through_two_endpoint_addresses(
    tmp_path: Path,
    moto_s3: MotoS3,
    locked_bucket: str,
    aws_env: dict[str, str],
    signed_pdf: SignedPdf,
) -> None:
    from tests.fixtures.sites import SPEC_EXPORT

    other_name = moto_s3.endpoint_url.replace("127.0.0.1", "localhost")
    s3 = 'kind = "s3"\nbucket = "{b}"\nprefix = "a/"\nendpoint_url = "{e}"\nregion = "us-east-1"'
    write_config(
        tmp_path,
        s3.format(b=locked_bucket, e=moto_s3.endpoint_url),
        s3.format(b=locked_bucket, e=other_name),
    )
    docs = tmp_path / "out" / "2025-2026" / "5a"
    docs.mkdir(parents=True)
    (docs / "5a-class-journal.pdf").write_bytes(signed_pdf("class_journal", "5a"))
    (tmp_path / "export.json").write_bytes(SPEC_EXPORT.read_bytes())
    stored = run_cli("store", "out", "--source", "export.json", cwd=tmp_path, env=aws_env)
    assert stored.returncode == 2, stored.stdout + stored.stderr
    assert "метка места хранения" in stored.stderr
    listed = moto_s3.client().list_objects_v2(Bucket=locked_bucket).get("Contents", [])
    assert [o["Key"] for o in listed] == ["a/.archiver-location.json"]  # only the marker


# -- point 10: local copies whose modes were lifted; get --out into a storage location

Y1_JOURNAL = record("2025/2026", "c5a", "class_journal")


def test_verify_reports_local_files_made_writable_or_unreadable(archive: Archive) -> None:
    payload = archive.payload(archive.primary_root, Y1_JOURNAL)
    payload.chmod(0o644)
    found = archive.run("verify")
    assert found.returncode == 1, found.stdout + found.stderr
    assert "открыт для записи (права 0644)" in found.stdout, found.stdout
    assert str(archive.primary_root) in found.stdout
    payload.chmod(0o000)
    found = archive.run("verify", "--json")
    assert found.returncode == 1
    record = next(r for r in found.json()["records"] if r["record_id"] == Y1_JOURNAL)
    assert record["status"] == "unreadable", record
    assert "закрыт для чтения (права 0000)" in archive.run("verify").stdout
    payload.chmod(0o444)
    assert archive.run("verify").returncode == 0


def test_get_out_inside_a_storage_location_is_refused(archive: Archive) -> None:
    folder = archive.record_path(archive.primary_root, Y1_JOURNAL)
    for out in (folder / "copy.pdf", archive.secondary_root / "copy.pdf"):  # type: ignore[operator]
        got = archive.run("get", Y1_JOURNAL, "--out", str(out), "--reason", "проверка")
        assert got.returncode == 2, got.stdout + got.stderr
        assert "внутри места хранения архива" in got.stderr
        assert not out.exists()
    assert archive.run("verify").returncode == 0


# -- point 9: each failure named by its real cause


def test_toml_syntax_errors_in_russian(tmp_path: Path) -> None:
    config = tmp_path / "archiver.toml"
    for text, expected in (
        ("[storage.primary]\nkind = local\n", "строка 2, столбец 8: неверное значение"),
        ("[storage.primary\n", "строка 1, столбец 17: в заголовке раздела не хватает «]»"),
        ('[archive]\nstate_dir = "C:\\папка"\n', "обратная косая черта"),
        ("[archive]\n[archive]\n", "раздел [archive] объявлен дважды"),
    ):
        config.write_text(text, encoding="utf-8")
        result = run_cli("verify", "--config", str(config), cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert expected in result.stderr, result.stderr
        assert "Expected" not in result.stderr and "Invalid" not in result.stderr


def test_a_read_only_disk_is_reported_as_read_only(tmp_path: Path, signed_pdf: SignedPdf) -> None:
    from tests.fixtures.sites import SPEC_EXPORT

    (tmp_path / "nas").mkdir()
    usb = tmp_path / "usb"
    usb.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(usb)])
    if done.returncode != 0:
        pytest.skip("mounting is not allowed here")
    try:
        docs = tmp_path / "out" / "2025-2026" / "5a"
        docs.mkdir(parents=True)
        (docs / "5a-class-journal.pdf").write_bytes(signed_pdf("class_journal", "5a"))
        (tmp_path / "export.json").write_bytes(SPEC_EXPORT.read_bytes())
        write_config(tmp_path, 'kind = "local"\npath = "nas"', 'kind = "local"\npath = "usb"')
        stored = run_cli("store", "out", "--source", "export.json", cwd=tmp_path)
        assert stored.returncode == 70, stored.stdout + stored.stderr
        assert "только для чтения" in stored.stderr
        assert "нет прав" not in stored.stderr
    finally:
        subprocess.run(["umount", str(usb)], check=True)


@pytest.fixture
def authenticating_s3(tmp_path: Path) -> Iterator[str]:
    """A moto server that checks access keys (``INITIAL_NO_AUTH_ACTION_COUNT=0``)."""
    import os
    import socket
    import sys
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait()


def test_an_unknown_s3_key_is_named_as_such(
    tmp_path: Path, authenticating_s3: str, aws_env: dict[str, str]
) -> None:
    (tmp_path / "nas").mkdir()
    write_config(
        tmp_path,
        'kind = "local"\npath = "nas"',
        f'kind = "s3"\nbucket = "archive"\nendpoint_url = "{authenticating_s3}"\n'
        'region = "us-east-1"',
    )
    env = {**aws_env, "AWS_ACCESS_KEY_ID": "AKIAUNKNOWNKEY000000"}
    checked = run_cli("verify", cwd=tmp_path, env=env)
    assert checked.returncode != 0
    assert "InvalidAccessKeyId" in checked.stderr + checked.stdout, checked.stderr
    assert "доступ запрещён" not in checked.stderr + checked.stdout


# -- point 8: the signature workers die


def test_dead_signature_workers_are_reported(
    tmp_path: Path, archive: Archive, test_pki: object
) -> None:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import os\n"
        "if b'multiprocessing.forkserver' in open('/proc/self/cmdline', 'rb').read():\n"
        "    os._exit(1)  # the workers cannot start (no access to their files, no memory)\n",
        encoding="utf-8",
    )
    archive.write_config(f'[signature]\ntrust_roots = ["{test_pki.root_cert_path}"]\n')  # type: ignore[attr-defined]
    payload = archive.payload(archive.primary_root, Y1_JOURNAL)
    make_writable(payload)
    payload.write_bytes(b"damaged")  # a repair has to check the donor's signature
    payload.chmod(0o444)
    for args in (["--deep"], ["--repair"], ["--deep", "--repair"]):
        result = archive.run("verify", *args, env={"PYTHONPATH": str(hook)})
        assert result.returncode == 70, (args, result.returncode, result.stdout, result.stderr)
        assert "проверк" in result.stderr and "подпис" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


# -- point 6: the tail of the access log


def _three_gets(archive: Archive) -> None:
    for i in range(3):
        out = archive.tmp / "out" / f"{i}.pdf"
        out.parent.mkdir(exist_ok=True)
        got = archive.run("get", Y1_JOURNAL, "--out", str(out), "--reason", "запрос")
        assert got.returncode == 0, got.stderr


def _remove(path: Path) -> None:
    make_writable(path)
    if path.is_dir():
        for child in path.iterdir():
            make_writable(child)
            child.unlink()
        path.rmdir()
    else:
        path.unlink()


def test_the_last_entry_removed_from_both_local_copies_is_found(archive: Archive) -> None:
    _three_gets(archive)
    assert archive.run("log", "verify").returncode == 0
    for root in (archive.primary_root, archive.secondary_root):
        _remove(archive.log_file(root, 3))  # type: ignore[arg-type]
    result = archive.run("log", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "конец журнала доступа удалён" in result.stdout and "№ 3" in result.stdout


def test_the_last_entry_edited_in_both_local_copies_is_found(archive: Archive) -> None:
    _three_gets(archive)
    for root in (archive.primary_root, archive.secondary_root):
        path = archive.log_file(root, 3)  # type: ignore[arg-type]
        data = path.read_bytes().replace("запрос".encode(), "ЗАПРОС".encode())
        make_writable(path)
        path.write_bytes(data)
    result = archive.run("log", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "запись № 3 журнала доступа изменена" in result.stdout


def test_the_whole_log_removed_from_both_local_copies_is_found(archive: Archive) -> None:
    _three_gets(archive)
    for root in (archive.primary_root, archive.secondary_root):
        _remove(root / "_access-log")  # type: ignore[operator]
    result = archive.run("log", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "журнала нет ни в одном хранилище" in result.stdout


def test_delete_markers_do_not_hide_the_s3_log(s3_archive: Archive) -> None:
    archive = s3_archive
    _three_gets(archive)
    client = archive.secondary.client  # type: ignore[attr-defined]
    bucket = archive.secondary.bucket  # type: ignore[attr-defined]
    for seq in (2, 3):
        client.delete_object(Bucket=bucket, Key=f"journal/_access-log/{seq:08d}.json")
    _remove(archive.log_file(archive.primary_root, 3))
    (archive.tmp / "state" / "access-log-head.json").unlink()  # no local anchor: S3 alone
    result = archive.run("log", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "запись № 3" in result.stdout and "скрыта (удалена маркером удаления)" in result.stdout
    assert "запись № 2" in result.stdout
    assert "хранилище «primary»: записи № 3 нет" in result.stdout


def test_log_repair_copies_the_locked_s3_entry_not_a_newer_forged_version(
    s3_archive: Archive,
) -> None:
    archive = s3_archive
    _three_gets(archive)
    local = archive.log_file(archive.primary_root, 3)
    genuine = local.read_bytes()
    client = archive.secondary.client  # type: ignore[attr-defined]
    bucket = archive.secondary.bucket  # type: ignore[attr-defined]
    forged = genuine.replace("запрос".encode(), "ЗАПРОС".encode())
    client.put_object(Bucket=bucket, Key="journal/_access-log/00000003.json", Body=forged)
    _remove(local)
    assert "отличается от заблокированной исходной" in archive.run("log", "verify").stdout
    result = archive.run("log", "verify", "--repair")
    assert local.read_bytes() == genuine, result.stdout + result.stderr  # not the forgery
    current = client.get_object(Bucket=bucket, Key="journal/_access-log/00000003.json")
    # the S3 key shows the genuine entry again (a new version), or the forgery stays reported
    assert current["Body"].read() == genuine or result.returncode == 1


def test_a_head_written_while_the_primary_was_away_is_no_lost_tail(archive: Archive) -> None:
    assert archive.secondary_root is not None
    _three_gets(archive)
    away = archive.tmp / "primary-away"
    archive.primary_root.rename(away)
    out = archive.tmp / "out" / "4.pdf"
    got = archive.run("get", Y1_JOURNAL, "--out", str(out), "--reason", "запрос")
    assert got.returncode == 0, got.stderr  # entry 4: in the secondary only
    away.rename(archive.primary_root)
    gone = archive.tmp / "secondary-away"
    archive.secondary_root.rename(gone)
    result = archive.run("log", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "недоступно" in result.stdout + result.stderr
    assert "конец журнала доступа удалён" not in result.stdout  # entry 4 is where it was written
    gone.rename(archive.secondary_root)
    assert archive.run("log", "verify", "--repair").returncode == 0
    _remove(archive.log_file(archive.primary_root, 4))
    _remove(archive.log_file(archive.secondary_root, 4))
    result = archive.run("log", "verify")
    assert result.returncode == 1 and "конец журнала доступа удалён" in result.stdout
