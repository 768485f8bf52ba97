"""Worker processes for CPU-bound work: one pool for rendering, signing and validating.

:class:`WorkerPool` runs tasks in worker processes, or in this process when one
worker is asked for (then one task at a time, even from several threads).
:func:`fork_map` maps a function over items in forked workers: forking lets the
workers inherit what the parent already holds (a parsed export, a loaded signing
key) without pickling it, so the function may be a closure. Results come back in
item order; ``on_result`` sees each as it completes; the first exception in a
worker is raised in the parent.

Interruptions: the workers ignore SIGINT (Ctrl-C reaches the whole process group,
and only the parent decides what happens); when the parent leaves a pool because of
an exception (``KeyboardInterrupt`` included), the pool's workers are killed at once
instead of being waited for, so no worker outlives an interrupted command.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.reduction import ForkingPickler
from types import MappingProxyType, TracebackType
from typing import Any, Literal, TypeVar

__all__ = [
    "BrokenProcessPool",
    "WorkerPool",
    "cores",
    "fork_map",
    "kill_workers",
    "preload",
    "start_fork_server",
]


def _mapping_proxy(items: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(items)


def _reduce_mapping_proxy(proxy: MappingProxyType[Any, Any]) -> tuple[Any, tuple[Any, ...]]:
    return _mapping_proxy, (dict(proxy),)


# the model's read-only indexes (model.py) travel to "forkserver" workers as copies
ForkingPickler.register(MappingProxyType, _reduce_mapping_proxy)

T = TypeVar("T")
R = TypeVar("R")

_TASK: Callable[[Any], Any] | None = None


def _run(item: Any) -> Any:
    assert _TASK is not None
    return _TASK(item)


def _worker_start(initializer: Callable[..., object] | None, *initargs: Any) -> None:
    """Every worker's first step: leave Ctrl-C to the parent, then the pool's own initializer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


_PRELOAD: list[str] = []


def preload(*modules: str) -> None:
    """Have the fork server import ``modules`` once when it starts, for the workers of every
    pool that follows (a run that knows which pools come: the year-end's render, then its
    signature checks); a pool's own ``preload`` adds to them."""
    _PRELOAD.extend(m for m in modules if m not in _PRELOAD)


def start_fork_server() -> None:
    """Start the fork server now, so that it imports what :func:`preload` named while this
    process does other work (it does not wait for it); the first forkserver pool finds it
    ready."""
    _start_helpers_deaf(())


def _start_helpers_deaf(preload: Sequence[str]) -> None:
    """Start the fork server and the resource tracker deaf to Ctrl-C.

    Both are new interpreters in this process group, so the terminal's Ctrl-C reaches
    them too: arriving while they import ``site``, before they can ignore it, it
    printed a ``KeyboardInterrupt`` traceback under the command's own message. An
    ignored signal stays ignored across ``exec`` (Python then keeps it ignored); a
    blocked one does not (the exec resets the mask). Here Ctrl-C is blocked while it
    is ignored, so one pressed meanwhile waits and comes once the handler is back.
    """
    from multiprocessing import forkserver, resource_tracker

    modules = [*_PRELOAD, *(m for m in preload if m not in _PRELOAD)]
    if modules:  # only for a fork server not running yet (one per process)
        forkserver.set_forkserver_preload(["__main__", *modules])
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        try:
            handler: Any = signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # not the main thread: Ctrl-C is not this thread's to handle
            handler = _NOT_SET
        try:
            resource_tracker.ensure_running()
            forkserver.ensure_running()
        finally:
            if handler is not _NOT_SET:
                signal.signal(signal.SIGINT, handler if handler is not None else signal.SIG_DFL)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


_NOT_SET = object()


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Ctrl-C pressed inside the block comes at its end (in the main thread; Ctrl-C is
    no other thread's to handle).

    Submitting to a pool may start a worker. Interrupted halfway, the parent cleaned up
    while the new worker still read its start-up data, and the worker printed a
    traceback under the command's own message.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[int] = []
    handler = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler if handler is not None else signal.SIG_DFL)
        if pressed:
            signal.raise_signal(signal.SIGINT)


def kill_workers() -> None:
    """Kill every worker process this process started (a second Ctrl-C, a hard stop)."""
    for child in multiprocessing.active_children():
        with contextlib.suppress(OSError, ValueError):
            child.kill()
    for child in multiprocessing.active_children():  # reaps them
        child.join(timeout=1)


def cores() -> int:
    """Usable CPU cores."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class WorkerPool:
    """``workers`` processes (``fork`` or ``forkserver``), or this process when
    ``workers`` is 1.

    Use ``forkserver`` for work that runs a library with threads of its
    own (Typst): a process forked after such a library ran keeps its locks and thread
    pools but not their threads, and waits forever (see :func:`fork_map`).

    ``initializer(*initargs)`` prepares each worker (in this process too when it runs
    the tasks itself). ``preload``: modules the fork server imports once, when this pool
    starts it, so that its workers start with them imported. A worker that dies makes
    :meth:`submit`'s future raise :class:`BrokenProcessPool`.
    """

    def __init__(
        self,
        workers: int,
        *,
        start: Literal["fork", "forkserver"] = "fork",
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
        preload: Sequence[str] = (),
    ) -> None:
        self.workers = max(1, workers)
        self._inline = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        if self.workers > 1:
            if start != "fork":
                _start_helpers_deaf(preload)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(start),
                initializer=_worker_start,
                initargs=(initializer, *initargs),
            )
        elif initializer is not None:
            initializer(*initargs)

    def submit(self, task: Callable[..., R], *args: Any) -> Future[R]:
        """Run ``task(*args)`` in a worker; in this process (done at once) with one worker."""
        if self._pool is not None:
            with _ctrl_c_held():  # may start a worker: not to be left half-started
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

    def terminate(self) -> None:
        """Stop at once: pending tasks are dropped, running workers killed and reaped."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())  # no public handle before 3.14
        for process in processes:  # first: a worker still starting must not see the pool go
            with contextlib.suppress(OSError, ValueError):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(timeout=5)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
        else:  # an error or Ctrl-C: do not wait for the other tasks
            self.terminate()


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

    Not for layout: a child forked after Typst (Rust, a thread pool of its own) ran in
    this process inherits the pool's state without its threads and hangs at its first
    layout; render workers are started by a fork server instead
    (:func:`archiver.render.batch.render_classes`).
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
