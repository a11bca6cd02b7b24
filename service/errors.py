"""The service's errors: a few kinds, each with a machine code and a message a person can act on.

Use cases raise these; the HTTP layer (``api/errors.py``) maps each kind to its
status once, and the CLI prints the message. ``extra`` carries facts a client
can use (``distance_m``, ``retry_after_s``).
"""

from __future__ import annotations


class ServiceError(Exception):
    """A use case refused; ``code`` says why to a program, ``message`` to a person."""

    def __init__(self, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


class Invalid(ServiceError):
    """The input is well-formed but cannot be acted on (a bad value, named in the message)."""


class Malformed(ServiceError):
    """A query or parameter is not written as it must be (a filter naming no known status)."""


class NotFound(ServiceError):
    """What the request names does not exist."""


class Conflict(ServiceError):
    """The request clashes with the current state (an illegal move, a lost race)."""


class Forbidden(ServiceError):
    """The caller may not do this."""


class Unauthenticated(ServiceError):
    """The caller must say who they are (a staff token), or said it wrongly."""


class TooMany(ServiceError):
    """Too many requests from one client; ``retry_after_s`` says when to try again."""


class TooLarge(ServiceError):
    """The upload is larger than the limit."""


class Unsupported(ServiceError):
    """The content is not of a kind the service accepts."""


class Unavailable(ServiceError):
    """The service cannot answer now: no community is loaded yet, a store it relies on
    (the rate limit's Redis, a locked SQLite file) cannot be reached, or it is too busy
    (every photo worker taken and the queue full); ``retry_after_s``, when given, says
    when to try again."""


class Failed(ServiceError):
    """A computation the service relies on failed (a solver); not the caller's fault."""
