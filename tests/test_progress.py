"""Progress on a terminal: every stage's bar reaches its end (n/n), in a real process on a pty.

A bar used to stay at zero when its stage ended without steps («Проверка выгрузки
0/1») or when a prompt closed it before the steps came («Подпись 0/20»).
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
from pathlib import Path

import pytest

from archiver.demo.generator import export_bytes, generate_export
from archiver.demo.keys import make_demo_keys
from archiver.init_config import write_config
from archiver.progress import ProgressEvent
from tests.fixtures.cli import COMMAND, cli_env, run_cli

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BAR = re.compile(r"(?P<label>[^\r\n\[]+?)\s+\[[#\- ]*\]\s+(?P<done>\d+)/(?P<total>\d+)")


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo school of three lists (one with marks): export, keys, configuration."""
    folder = tmp_path_factory.mktemp("progress")
    data = generate_export(classes=3)
    (folder / "export.json").write_bytes(export_bytes(data))
    make_demo_keys(
        folder / "keys", data["school"]["director"]["name"], data["school"]["short_name"]
    )
    write_config(folder, primary="room-1", secondary="room-2", demo=True)
    return folder


def on_terminal(folder: Path, *args: str) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; exit code, stdout and what the terminal got."""
    main, secondary = pty.openpty()
    env = cli_env({"ARCHIVER_SIGNER_PASSPHRASE": "demo", "COLUMNS": "120"})
    process = subprocess.Popen(
        [*COMMAND, *args],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=secondary,
    )
    os.close(secondary)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    stdout = process.stdout.read() if process.stdout else b""
    code = process.wait(timeout=600)
    return code, stdout.decode("utf-8"), b"".join(chunks).decode("utf-8", "replace")


def last_positions(terminal: str) -> dict[str, tuple[int, int]]:
    """Each bar's label and the position it was last drawn at."""
    found: dict[str, tuple[int, int]] = {}
    for match in BAR.finditer(ESCAPE.sub("\n", terminal)):
        label = match.group("label").strip()
        found[label] = (int(match.group("done")), int(match.group("total")))
    return found


def test_year_end_bars_reach_their_end(school: Path) -> None:
    code, stdout, terminal = on_terminal(school, "year-end", "--source", "export.json")
    assert code == 0, stdout + terminal
    bars = last_positions(terminal)
    for label in ("Проверка выгрузки", "Вёрстка", "Подпись", "Сохранение в архив"):
        assert label in bars, terminal
    for label, (done, total) in bars.items():
        assert done == total and total > 0, f"{label}: {done}/{total}"
    assert bars["Проверка выгрузки"] == (1, 1)
    documents = len(list((school / "state" / "year-end").rglob("*.pdf")))
    assert bars["Подпись"] == (documents, documents)
    # run again: nothing to render or sign, said so; the archive check reaches its end too
    code, stdout, terminal = on_terminal(school, "year-end", "--source", "export.json")
    assert code == 0, stdout + terminal
    assert "Вёрстка: делать нечего" in terminal and "Подпись: делать нечего" in terminal
    bars = last_positions(terminal)
    assert all(done == total for done, total in bars.values()), bars


def test_one_json_lines_shape(school: Path) -> None:
    """``--json`` progress: one object per line, each the shape of :class:`ProgressEvent`."""
    result = run_cli("verify", "--json", cwd=school, timeout=600)
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines, result.stderr
    fields = set(ProgressEvent.__dataclass_fields__)
    for line in lines:
        assert {"stage", "event", "done", "total"} <= set(line) <= fields
    assert [line["event"] for line in lines][:2] == ["location", "location"]
    assert lines[-1] == {
        "stage": "verify",
        "event": "done",
        "done": len(lines) - 4,
        "total": len(lines) - 4,
    }
