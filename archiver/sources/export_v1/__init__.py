"""Reader of the journal export, format version 1.

Reading goes in three steps, and every step reports all it finds, not only the
first problem:

1. bytes → text → JSON (a file that is not UTF-8, not JSON or truncated stops
   here with one problem naming the position);
2. structure: the pydantic wire models of :mod:`.wire` (types, required keys, allowed
   values). They are also the source of the shipped JSON Schema;
3. meaning: duplicate ids, dangling references, dates outside the academic
   year or the student's enrolment, unknown mark values and attendance codes.
   These checks walk the raw JSON defensively, so they also run when the
   structure has errors and the whole list comes out in one run.

Only a document without errors is turned into the domain model
(:mod:`archiver.model`).

The package holds one module per idea: :mod:`.wire` (the pydantic models and the
JSON Schema), :mod:`.messages` (Russian messages and JSON paths), :mod:`.checks`
(the checks of meaning), :mod:`.build` (the domain model), :mod:`.read` (the
steps in order) and :mod:`.slice` (one class's slice, written back for render).
"""

from archiver.sources.export_v1.build import to_model
from archiver.sources.export_v1.messages import json_path, structure_problems
from archiver.sources.export_v1.read import parse_json, read_export, validate_document
from archiver.sources.export_v1.slice import class_slice
from archiver.sources.export_v1.wire import (
    FORMAT_NAME,
    FORMAT_VERSION,
    SCHEMA_FILE,
    ExportV1,
    json_schema,
    json_schema_text,
)

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "SCHEMA_FILE",
    "ExportV1",
    "class_slice",
    "json_path",
    "json_schema",
    "json_schema_text",
    "parse_json",
    "read_export",
    "structure_problems",
    "to_model",
    "validate_document",
]
