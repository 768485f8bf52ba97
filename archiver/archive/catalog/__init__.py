"""The catalog: a local SQLite index of the archive's records, students, classes and years.

The archive in the storage locations stays the source of truth; the catalog is only
an index that makes «find the pupil Семёнов of 2026» a matter of seconds. It lives in
the working-state folder (``state_dir(config)/catalog.sqlite``) and can be thrown away
and rebuilt from the archive at any time:

1. list the complete records of the primary location (the secondary one when the
   primary is unavailable) and read every ``archive-record.json``;
2. of every school and academic year take the latest version of the
   ``journal_export`` record, read the export (its sha256 checked against the
   manifest; a damaged copy is replaced by the other location's) and index its
   students (id, full name, birth date), classes, enrolments, the year and exam
   marks per subject and the teachers' council decisions;
3. of a year whose export is no longer in the archive (it is kept 5 years, the
   summary statements of final marks 25) or cannot be read, index every class from
   the class's slice of the export embedded in its documents: the summary statement
   of final marks first, else the journal bundle. Twenty years on, the statements are
   what is left, and they carry everything ``find`` and ``extract`` need. Each class
   remembers the record its data was read from.

A rebuild writes a new file next to the old one and renames it into place, so a
reader never sees a half-built catalog and running it twice gives the same index.

Names are searched case- and ё/е-insensitively: every name is stored also in a
normalized form (:func:`normalize`: Unicode NFKC, casefold, ё → е), and queries are
normalized the same way in Python (SQLite's own ``lower()`` knows only ASCII).

The package, by idea: :mod:`.schema` (the file, its tables, the search forms of names,
opening it), :mod:`.build` (the rebuild, and whether the catalog is up to date) and
:mod:`.search` (students and the records that hold their data).
"""

from archiver.archive.catalog.build import (
    RebuildResult,
    archived_record_ids,
    catalogued_record_ids,
    ensure_catalog,
    latest_by_series,
    rebuild,
)
from archiver.archive.catalog.schema import (
    CATALOG_FILE,
    CatalogError,
    catalog_meta,
    catalog_path,
    normalize,
    normalize_class,
    normalize_year,
)
from archiver.archive.catalog.search import (
    FIELD_TEXT,
    ClassEntry,
    StudentMatch,
    final_marks_records,
    find_students,
    is_class,
    record_titles,
    student_data_records,
    student_names,
    suggest_names,
)

__all__ = [
    "CATALOG_FILE",
    "FIELD_TEXT",
    "CatalogError",
    "ClassEntry",
    "RebuildResult",
    "StudentMatch",
    "archived_record_ids",
    "catalog_meta",
    "catalog_path",
    "catalogued_record_ids",
    "ensure_catalog",
    "final_marks_records",
    "find_students",
    "is_class",
    "latest_by_series",
    "normalize",
    "normalize_class",
    "normalize_year",
    "rebuild",
    "record_titles",
    "student_data_records",
    "student_names",
    "suggest_names",
]
