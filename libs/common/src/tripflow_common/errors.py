"""The one base error of tripflow: an HTTP status, a stable code and a retryable flag."""

from __future__ import annotations

from typing import ClassVar


class TripflowError(Exception):
    """Base of every expected failure. Subclasses set `code`, `status_code` and `retryable`."""

    code: ClassVar[str] = "tripflow_error"
    status_code: ClassVar[int] = 400
    retryable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(TripflowError):
    code = "not_found"
    status_code = 404


class Unauthorized(TripflowError):
    code = "unauthorized"
    status_code = 401


class UndecodableEvent(TripflowError):
    """A Kafka message that is not a valid envelope: never retried, its raw bytes kept."""

    code = "undecodable_event"
    status_code = 422
