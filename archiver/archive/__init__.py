"""The archive: records and their BagIt packing, storing in both locations, verifying and
repairing them, the catalog, retrieval, extracts and the access log.

Stages before it (sources, model, render, signing, storage) may be imported here; nothing
below ``archiver.archive`` imports it.
"""
