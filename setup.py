"""Packaging that pyproject.toml cannot say: the built-in templates and retention policies.

The project's top-level ``templates/`` and ``retention_policies/`` are the sources a
school reads and edits; the wheel carries them as ``archiver/data/templates`` and
``archiver/data/retention_policies`` (read by :mod:`archiver.data`). setuptools maps
folders into a package only for packages it is given by name, and pyproject.toml
cannot list found packages and named ones together, so the list is made here.
Everything else is in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

MAPPED = {
    "archiver.data.templates": "templates",
    "archiver.data.retention_policies": "retention_policies",
}

setup(
    packages=[*find_namespace_packages(include=["archiver", "archiver.*"]), *MAPPED],
    package_dir=MAPPED,
)
