"""Error hierarchy of the library.

Every error the library raises on purpose derives from :class:`ArchiverError`
and carries a Russian message for the user and an exit code for the CLI
(in the spirit of borg's error classes). The library never prints: the CLI
turns these into messages in one place (:mod:`archiver.cli.main`).
"""

from __future__ import annotations


class ArchiverError(Exception):
    """Base class of the errors a user may see. ``str(error)`` is the Russian message."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ArchiverError):
    """The command was called with arguments that cannot work."""

    exit_code = 2


class InputError(ArchiverError):
    """The input data cannot be read or is invalid; nothing was written."""

    exit_code = 2
