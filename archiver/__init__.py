"""archiver: the archival and document-production service for schools' electronic class journals."""

__version__ = "0.1.0"
