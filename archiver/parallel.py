"""Worker processes for CPU-bound work: one pool for rendering, signing and validating.

:class:`WorkerPool` runs tasks in worker processes, or in this process when one
worker is asked for (then one task at a time, even from several threads).
:func:`fork_map` maps a function over items in forked workers: forking lets the
workers inherit what the parent already holds (a parsed export, a loaded signing
key) without pickling it, so the function may be a closure. Results come back in
item order; ``on_result`` sees each as it completes; the first exception in a
worker is raised in the parent.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, Literal, TypeVar

__all__ = ["BrokenProcessPool", "WorkerPool", "cores", "fork_map"]

T = TypeVar("T")
R = TypeVar("R")

_TASK: Callable[[Any], Any] | None = None


def _run(item: Any) -> Any:
    assert _TASK is not None
    return _TASK(item)


def cores() -> int:
    """Usable CPU cores."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class WorkerPool:
    """``workers`` processes (``fork`` or ``spawn``), or this process when ``workers`` is 1.

    ``initializer(*initargs)`` prepares each worker (in this process too when it runs
    the tasks itself). A worker that dies makes :meth:`submit`'s future raise
    :class:`BrokenProcessPool`.
    """

    def __init__(
        self,
        workers: int,
        *,
        start: Literal["fork", "spawn"] = "fork",
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self.workers = max(1, workers)
        self._inline = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(start),
                initializer=initializer,
                initargs=initargs,
            )
        elif initializer is not None:
            initializer(*initargs)

    def submit(self, task: Callable[..., R], *args: Any) -> Future[R]:
        """Run ``task(*args)`` in a worker; in this process (done at once) with one worker."""
        if self._pool is not None:
            return self._pool.submit(task, *args)
        future: Future[R] = Future()
        with self._inline:  # one task at a time in this process
            try:
                future.set_result(task(*args))
            except BaseException as exc:
                future.set_exception(exc)
        return future

    def close(self) -> None:
        """Wait for the workers to finish and stop them."""
        if self._pool is not None:
            self._pool.shutdown()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def fork_map(
    task: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    on_result: Callable[[T, R], None] | None = None,
    first: Callable[[T], Any] | None = None,
) -> list[R]:
    """``[task(item) for item in items]`` over ``workers`` forked processes (in item order).

    ``first`` is a sort key for the order the items are handed to the workers (the
    longest first, so that no worker is left with a long one at the end).
    """
    global _TASK
    workers = max(1, min(workers or cores(), len(items)))
    results: dict[int, R] = {}
    if workers == 1:
        for index, item in enumerate(items):
            results[index] = task(item)
            if on_result is not None:
                on_result(item, results[index])
        return [results[i] for i in range(len(items))]
    order = list(range(len(items)))
    if first is not None:
        order.sort(key=lambda index: first(items[index]))
    _TASK = task
    try:
        with WorkerPool(workers, start="fork") as pool:
            futures = {pool.submit(_run, items[index]): index for index in order}
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()
                if on_result is not None:
                    on_result(items[index], results[index])
    finally:
        _TASK = None
    return [results[i] for i in range(len(items))]
