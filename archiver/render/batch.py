"""Render many classes in parallel worker processes.

Typst lays a document out on one core, so classes are spread over processes (one
per core by default). The workers are started by a fork server
(``forkserver``), never forked from this process: Typst is a Rust library with a
thread pool of its own, and a process forked after Typst ran here (a previous
render in this process, a test, ``--workers 1`` before) inherits the pool's locks and
queues without its threads and waits forever at its first layout. Each worker gets
the parsed export once (pickled, at its start) and keeps its own engines (fonts
loaded once) for all the classes it renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import as_completed
from pathlib import Path

from archiver.errors import UsageError
from archiver.model import JournalExport
from archiver.parallel import WorkerPool, cores
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


_RENDERER: ClassRenderer | None = None
"""The worker's renderer, made once by :func:`_start_worker` (this process with one worker)."""


def _start_worker(export: JournalExport, doc_options: DocumentsOptions | None) -> None:
    global _RENDERER
    _RENDERER = ClassRenderer(export, doc_options=doc_options)


def _render_one(class_id: str, out_dir: Path) -> list[RenderedDocument]:
    assert _RENDERER is not None
    return _RENDERER.render_class(class_id, out_dir)


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

    def weight(class_id: str) -> int:  # the biggest classes first
        return -sum(len(c.lessons) for c in export.classes_by_id[class_id].courses)

    stage.start(len(ids))
    results: dict[str, list[RenderedDocument]] = {}
    count = max(1, min(workers or cores(), len(ids)))
    with WorkerPool(
        count,
        start="forkserver",
        initializer=_start_worker,
        initargs=(export, doc_options),
        preload=("archiver.render.bundle", "typst"),
    ) as pool:
        futures = {pool.submit(_render_one, c, out_dir): c for c in sorted(ids, key=weight)}
        for future in as_completed(futures):
            class_id = futures[future]
            results[class_id] = future.result()
            stage.step(class_id)
    stage.finish()
    return [doc for class_id in ids for doc in results[class_id]]
