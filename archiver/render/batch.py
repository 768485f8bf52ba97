"""Render many classes in parallel worker processes.

WeasyPrint and Typst each use one core per document, so classes are spread over
processes (one per core by default). The workers are forked after the export is
loaded, so they share the parsed model instead of re-reading the file; each keeps
its own engines (fonts loaded once) for all the classes it renders.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from archiver.errors import UsageError
from archiver.model import JournalExport
from archiver.render.bundle import ClassRenderer, RenderedDocument


@dataclass(frozen=True, slots=True)
class ClassRendered:
    """Progress event: one class is done."""

    class_id: str
    done: int
    total: int
    documents: tuple[RenderedDocument, ...]


ProgressCallback = Callable[[ClassRendered], None]

_EXPORT: JournalExport | None = None
_RENDERER: ClassRenderer | None = None


def _render_in_worker(class_id: str, out_dir: Path) -> list[RenderedDocument]:
    global _RENDERER
    if _RENDERER is None:
        assert _EXPORT is not None
        _RENDERER = ClassRenderer(_EXPORT)
    return _RENDERER.render_class(class_id, out_dir)


def select_classes(export: JournalExport, class_ids: Sequence[str] | None) -> list[str]:
    """The ids to render: all classes in export order, or the requested ones (checked)."""
    if not class_ids:
        return [c.id for c in export.classes]
    unknown = [c for c in class_ids if c not in export.classes_by_id]
    if unknown:
        known = ", ".join(c.id for c in export.classes)
        raise UsageError(f"в выгрузке нет класса {', '.join(unknown)}; есть: {known}")
    return list(dict.fromkeys(class_ids))


def default_workers() -> int:
    """One worker per available core."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def render_classes(
    export: JournalExport,
    out_dir: Path,
    class_ids: Sequence[str] | None = None,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> list[RenderedDocument]:
    """Render the documents of the selected classes into ``out_dir``; return them in export order."""
    global _EXPORT
    ids = select_classes(export, class_ids)
    workers = max(1, min(workers or default_workers(), len(ids)))
    results: dict[str, list[RenderedDocument]] = {}

    def record(class_id: str, documents: list[RenderedDocument]) -> None:
        results[class_id] = documents
        if progress is not None:
            progress(ClassRendered(class_id, len(results), len(ids), tuple(documents)))

    if workers == 1:
        renderer = ClassRenderer(export)
        for class_id in ids:
            record(class_id, renderer.render_class(class_id, out_dir))
    else:
        # biggest classes first, so that no worker is left with a long one at the end
        def weight(class_id: str) -> int:
            return -sum(len(c.lessons) for c in export.classes_by_id[class_id].courses)

        _EXPORT = export
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = {
                    pool.submit(_render_in_worker, class_id, out_dir): class_id
                    for class_id in sorted(ids, key=weight)
                }
                for future in as_completed(futures):
                    record(futures[future], future.result())
        finally:
            _EXPORT = None
    return [doc for class_id in ids for doc in results[class_id]]
