"""Render many classes in parallel worker processes.

WeasyPrint and Typst each use one core per document, so classes are spread over
processes (one per core by default, :func:`archiver.parallel.fork_map`). The workers
are forked after the export is loaded, so they share the parsed model instead of
re-reading the file; each keeps its own engines (fonts loaded once) for all the
classes it renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from archiver.errors import UsageError
from archiver.model import JournalExport
from archiver.parallel import fork_map
from archiver.progress import ProgressCallback, StageProgress
from archiver.render.bundle import ClassRenderer, RenderedDocument
from archiver.settings import DocumentsOptions


def select_classes(export: JournalExport, class_ids: Sequence[str] | None) -> list[str]:
    """The ids to render: all classes in export order, or the requested ones (checked)."""
    if not class_ids:
        return [c.id for c in export.classes]
    unknown = [c for c in class_ids if c not in export.classes_by_id]
    if unknown:
        known = ", ".join(c.id for c in export.classes)
        raise UsageError(f"в выгрузке нет класса {', '.join(unknown)}; есть: {known}")
    return list(dict.fromkeys(class_ids))


def render_classes(
    export: JournalExport,
    out_dir: Path,
    class_ids: Sequence[str] | None = None,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    doc_options: DocumentsOptions | None = None,
) -> list[RenderedDocument]:
    """Render the documents of the selected classes into ``out_dir``; return them in export order.

    ``doc_options`` names a school's own templates and retention policies (else the built-in ones).

    Progress: stage ``render``, a step per class (``item`` is the class id).
    """
    ids = select_classes(export, class_ids)
    stage = StageProgress(progress, "render")
    renderer: ClassRenderer | None = None

    def render_one(class_id: str) -> list[RenderedDocument]:
        nonlocal renderer  # one per worker process, kept for all its classes
        if renderer is None:
            renderer = ClassRenderer(export, doc_options=doc_options)
        return renderer.render_class(class_id, out_dir)

    def weight(class_id: str) -> int:  # the biggest classes first
        return -sum(len(c.lessons) for c in export.classes_by_id[class_id].courses)

    stage.start(len(ids))
    results = fork_map(
        render_one,
        ids,
        workers=workers,
        on_result=lambda class_id, _: stage.step(class_id),
        first=weight,
    )
    stage.finish()
    return [doc for documents in results for doc in documents]
