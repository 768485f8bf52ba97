"""The distributed engine (Dask distributed): a running scheduler, or a local cluster on this machine.

``[engine] address`` names a ``dask scheduler`` with ``dask worker`` processes started
separately (on this or other computers); without it a :class:`distributed.LocalCluster`
of ``workers`` processes is started for the run and stopped after it. The same client
code runs against both. A local cluster's workers hold every ``signer-<school>``
resource (the keys are on this machine); a scheduler's workers hold the resources they
were started with (``dask worker … --resources signer-school-17=1``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archiver.errors import ArchiverError, ExitCode
from archiver.region.model import EngineOptions

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["Engine", "EngineError", "open_engine"]

CONNECT_TIMEOUT = 20
"""Seconds to wait for a scheduler to answer."""


class EngineError(ArchiverError):
    """The engine cannot be reached or started."""

    exit_code = ExitCode.FAILURE


@dataclass
class Engine:
    """A connected client, what it runs on, and the dashboard's address if there is one."""

    client: Client
    address: str
    local: bool
    dashboard: str | None = None
    resources: dict[str, float] = field(default_factory=dict)

    def workers(self) -> int:
        """Worker processes connected now."""
        return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    def has_resource(self, name: str) -> bool:
        """Whether some connected worker holds the resource ``name``."""
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        return any(name in (w.get("resources") or {}) for w in workers.values())


def _dashboard(client: Client) -> str | None:
    """The dashboard's address, when the scheduler serves one that works.

    Without ``bokeh`` on the scheduler's machine the address answers only «Dask needs
    bokeh»: then there is no dashboard to print.
    """
    import urllib.request

    info: dict[str, Any] = client.scheduler_info(n_workers=0)
    if "dashboard" not in (info.get("services") or {}):
        return None
    link: str = client.dashboard_link
    try:
        with urllib.request.urlopen(link, timeout=3) as answer:
            if b"needs bokeh" in answer.read(2000):
                return None
    except OSError:
        return None
    return link


@contextmanager
def open_engine(
    options: EngineOptions, resources: dict[str, float] | None = None
) -> Iterator[Engine]:
    """Connect to ``options.address``, or start a local cluster; closed (stopped) afterwards.

    ``resources`` are given to the local cluster's workers (ignored for a scheduler).
    """
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if options.address is not None:
        try:
            client = Client(options.address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise EngineError(
                f"планировщик {options.address} не отвечает ({exc}); запустите «dask scheduler» "
                "и исполнители «dask worker», или уберите [engine] address"
            ) from None
        try:
            yield Engine(client, options.address, False, _dashboard(client))
        finally:
            client.close()
        return
    try:
        cluster = LocalCluster(
            n_workers=options.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            resources=dict(resources or {}),
            silence_logs=logging.ERROR,
        )
    except Exception as exc:  # the engine's own reasons are many
        raise EngineError(f"не удалось запустить локальный кластер: {exc}") from exc
    client = Client(cluster)
    try:
        yield Engine(
            client,
            str(cluster.scheduler_address),
            True,
            _dashboard(client),
            dict(resources or {}),
        )
    finally:
        client.close()
        cluster.close()
