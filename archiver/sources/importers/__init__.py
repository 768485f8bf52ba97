"""Importers: a school's year pulled from the journal system's web API into export format v1.

:mod:`.base` holds the interface every importer implements (:class:`~.base.Importer`)
and the shared HTTP client; :mod:`.epos` (ЭПОС.Школа and the МЭШ family) and
:mod:`.dnevnik` (Дневник.ру) are the importers; :mod:`.mapping` the editable tables of
mark values and attendance codes; :mod:`.provenance` the raw responses kept beside
the export and the PII-scrubbed capture; :mod:`.run` one pull from start to end.
"""

from archiver.sources.importers.run import IMPORTERS, PullOutcome, run_pull

__all__ = ["IMPORTERS", "PullOutcome", "run_pull"]
