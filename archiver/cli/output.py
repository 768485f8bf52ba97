"""Small helpers shared by the commands for printing to the user."""

from __future__ import annotations

import json
from typing import Any

import click


def echo_json(data: Any) -> None:
    """Print ``data`` as pretty JSON (UTF-8, Cyrillic as is)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
