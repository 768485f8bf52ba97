from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def spec_export_doc() -> dict[str, Any]:
    """A small export written by hand strictly to the spec (not by our generator)."""
    return json.loads((DATA / "spec_export.json").read_text(encoding="utf-8"))


@pytest.fixture
def spec_doc(spec_export_doc: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the hand-written export, free to mutate."""
    return copy.deepcopy(spec_export_doc)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``archiver`` command in a subprocess."""
    return subprocess.run(
        [sys.executable, "-c", "from archiver.cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


from tests.pki.fixtures import pki_fixture, softhsm_token_fixture  # noqa: E402, F401
from tests.storage_fixtures import (  # noqa: E402, F401
    aws_env_fixture,
    locked_bucket_fixture,
    moto_s3_fixture,
    s3_client_fixture,
    signed_pdf_fixture,
    storage_fixture,
)
