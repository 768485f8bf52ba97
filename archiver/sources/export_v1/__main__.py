"""Regenerate the shipped JSON Schema: ``python -m archiver.sources.export_v1``."""

from archiver.sources.export_v1.wire import SCHEMA_FILE, json_schema_text

SCHEMA_FILE.write_text(json_schema_text(), encoding="utf-8")
