"""Lint and type checks run with the tests, so CI fails on them too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff() -> None:
    result = run("ruff", "check", "archiver", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_library_never_imports_click() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "archiver").rglob("*.py")
        if "cli" not in path.relative_to(ROOT / "archiver").parts
        and any(
            line.strip().startswith(("import click", "from click"))
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert offenders == []
