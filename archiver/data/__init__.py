"""Built-in data shipped inside the package: document templates, retention policies, JSON Schemas.

In an installed archiver (a wheel, ``pip install .``) the folders sit next to this
module: ``archiver/data/templates``, ``archiver/data/retention_policies`` and
``archiver/data/schemas``. The first two are built from the project's top-level
``templates/`` and ``retention_policies/`` (mapped in by ``setup.py``), so git holds
one copy of each; in an editable install they are read from there directly.

A school's own copies are chosen in ``archiver.toml`` or with ``ARCHIVER_TEMPLATES`` /
``ARCHIVER_POLICIES``; these built-in folders are the defaults.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
from importlib import resources
from pathlib import Path

FOLDERS = ("templates", "retention_policies", "schemas")
"""The built-in folders."""

_SOURCE_ROOT = Path(__file__).resolve().parents[2]
"""The project checkout an editable install runs from (its top-level folders are the sources)."""

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


@functools.cache
def builtin(name: str) -> Path:
    """The built-in folder ``name`` (one of :data:`FOLDERS`) as a real folder on disk.

    WeasyPrint, Typst and the TOML reader want paths, so a package imported from
    a zip file gets its folder extracted once per process by
    :func:`importlib.resources.as_file` (Python 3.12 and later can do that).
    """
    if name not in FOLDERS:
        raise ValueError(f"no built-in folder {name!r}")
    packaged = resources.files(__name__) / name
    if packaged.is_dir():
        return _extracted.enter_context(resources.as_file(packaged))
    source = _SOURCE_ROOT / name
    if source.is_dir():  # an editable install: the top-level folder of the checkout
        return source
    # a broken installation; the caller's message names the folder it looked in
    return Path(str(packaged))
