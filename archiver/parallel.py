"""Running one function over many items in forked worker processes.

Forking lets workers inherit what the parent already holds (a parsed export, a
loaded signing key) without pickling it. Results come back in completion order
through ``on_result``; the first exception in a worker is raised in the parent.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

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


def fork_map(
    task: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    on_result: Callable[[T, R], None] | None = None,
) -> list[R]:
    """``[task(item) for item in items]`` over ``workers`` forked processes (in item order)."""
    global _TASK
    workers = max(1, min(workers or cores(), len(items)))
    results: dict[int, R] = {}
    if workers == 1:
        for index, item in enumerate(items):
            results[index] = task(item)
            if on_result is not None:
                on_result(item, results[index])
        return [results[i] for i in range(len(items))]
    _TASK = task
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(_run, item): index for index, item in enumerate(items)}
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()
                if on_result is not None:
                    on_result(items[index], results[index])
    finally:
        _TASK = None
    return [results[i] for i in range(len(items))]
