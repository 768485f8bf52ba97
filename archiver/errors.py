"""Error hierarchy of the library and the exit codes of the command line.

Every error the library raises on purpose derives from :class:`ArchiverError`
and carries a Russian message for the user and an :class:`ExitCode` for the CLI
(in the spirit of borg's error classes). The library never prints: the CLI
turns these into messages in one place (:mod:`archiver.cli.main`).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What the exit status of an ``archiver`` command means (documented in README.md)."""

    SUCCESS = 0
    """Done; a check found nothing wrong."""
    PROBLEMS_FOUND = 1
    """The command ran to its end and found problems (a damaged copy, an invalid signature …)."""
    BAD_INPUT = 2
    """Bad arguments, configuration or input data; nothing was written."""
    WAITING_FOR_SIGNATURE = 3
    """The year-end run did its part and waits for the director's signature (``archiver sign --review``)."""
    FAILURE = 70
    """The command could not be carried out (a location, the signer, the network, or a bug)."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C."""


class ArchiverError(Exception):
    """Base class of the errors a user may see. ``str(error)`` is the Russian message."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ArchiverError):
    """The command was called with arguments that cannot work."""

    exit_code = ExitCode.BAD_INPUT


class InputError(ArchiverError):
    """The input data cannot be read or is invalid; nothing was written."""

    exit_code = ExitCode.BAD_INPUT


class ProblemsFound(ArchiverError):
    """A check ran to its end and found problems; the message says which."""

    exit_code = ExitCode.PROBLEMS_FOUND
