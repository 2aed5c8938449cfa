"""The failure-reporting middleware that wraps every handler (DESIGN.md §5).

A handler that raises a business error gets `automation.failed` published and its
message acknowledged, so one bad event never blocks a partition. If that publish
fails, the exception goes on and the subscriber's NACK_ON_ERROR policy seeks back:
the message comes again, nothing is lost. Infrastructure faults (database or broker
unreachable) are not the event's fault: they are not reported, the message is
nacked after a pause and handled again when the dependency is back.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from typing import TYPE_CHECKING, Any

from faststream import BaseMiddleware
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError, StatementError

from tripflow_common.errors import TripflowError, UndecodableEvent
from tripflow_common.events import (
    ATTEMPT_HEADER,
    RETRY_ID_HEADER,
    Envelope,
    Topic,
)
from tripflow_common.logging import redact_text

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker
    from faststream.message import StreamMessage

log = logging.getLogger(__name__)

HANDLED = Counter(
    "tripflow_events_handled_total", "Events handled by a consumer", ["group", "type", "outcome"]
)

INFRA_PAUSE_SECONDS = 2.0


def failure_key(consumer_group: str, event_id: str) -> str:
    """One failure per event and consumer group: what the retry service keys its rows by."""
    return f"{consumer_group}:{event_id}"


def is_infrastructure_fault(exc: BaseException) -> bool:
    """A dependency is down: redeliver later instead of reporting the event as failed."""
    if isinstance(exc, OperationalError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return type(exc).__module__.startswith("aiokafka") or isinstance(exc, OSError)


def describe_error(exc: BaseException) -> str:
    """A message fit for admins: no SQL parameters (they may hold payload data), redacted."""
    if isinstance(exc, StatementError) and exc.orig is not None:
        text = (
            f"{type(exc.orig).__name__}: {str(exc.orig).splitlines()[0] if str(exc.orig) else ''}"
        )
    else:
        text = str(exc)
    return redact_text(text)[:2000]


def classify(exc: BaseException) -> bool:
    """Is this failure worth retrying? Business errors say so themselves."""
    if isinstance(exc, TripflowError):
        return exc.retryable
    # A malformed event stays malformed: retrying it changes nothing.
    return not isinstance(exc, ValidationError | ValueError | KeyError | TypeError)


class FailureReporter:
    """Builds the middleware for one consumer group; `broker` is set once the broker exists."""

    def __init__(self, consumer_group: str, producer: str, namespace: str = "") -> None:
        self.consumer_group = consumer_group
        self.namespace = namespace
        self.producer = producer
        self.broker: KafkaBroker | None = None

    def middleware(self, msg: Any, /, *, context: Any) -> BaseMiddleware:
        return _FailureMiddleware(msg, context=context, reporter=self)

    async def publish(self, envelope: Envelope) -> None:
        assert self.broker is not None, "FailureReporter.broker must be set"
        await self.broker.publish(
            envelope.model_dump(mode="json"),
            topic=f"{self.namespace}{envelope.type}",
            key=envelope.booking_id.encode(),
            headers={"content-type": "application/json"},
        )

    async def report_failure(
        self, message: StreamMessage[Any], exc: BaseException, envelope: Envelope | None
    ) -> None:
        headers = {k: str(v) for k, v in (message.headers or {}).items()}
        raw = message.raw_message
        topic = str(getattr(raw, "topic", "")).removeprefix(self.namespace)
        retryable = classify(exc) and envelope is not None
        event_id = str(envelope.event_id) if envelope else str(uuid.uuid4())
        key = getattr(raw, "key", None)
        booking_id = (
            envelope.booking_id
            if envelope
            else (key.decode(errors="replace") if key else "unknown")
        )
        data: dict[str, Any] = {
            "failure_key": failure_key(self.consumer_group, event_id),
            "consumer_group": self.consumer_group,
            "handler": f"{self.consumer_group}:{envelope.type if envelope else topic}",
            "source_topic": topic,
            "event": envelope.model_dump(mode="json") if envelope else None,
            "error_type": exc.code if isinstance(exc, TripflowError) else type(exc).__name__,
            "error_message": describe_error(exc),
            "retryable": retryable,
            "attempt": int(headers.get(ATTEMPT_HEADER, "0") or 0),
            "retry_id": headers.get(RETRY_ID_HEADER),
        }
        if envelope is None:
            data["raw_base64"] = base64.b64encode(message.body or b"").decode()
        failed = Envelope.new(
            Topic.AUTOMATION_FAILED,
            booking_id=booking_id or "unknown",
            producer=self.producer,
            data=data,
            cause=envelope,
        )
        await self.publish(failed)
        log.warning(
            "automation failed",
            extra={
                "consumer_group": self.consumer_group,
                "event_type": envelope.type if envelope else None,
                "event_id": event_id,
                "booking_id": booking_id,
                "error_type": data["error_type"],
                "retryable": retryable,
            },
        )

    async def report_resolved(self, message: StreamMessage[Any], envelope: Envelope) -> None:
        retry_id = (message.headers or {}).get(RETRY_ID_HEADER)
        if not retry_id:
            return
        resolved = Envelope.new(
            Topic.AUTOMATION_RESOLVED,
            booking_id=envelope.booking_id,
            producer=self.producer,
            data={
                "retry_id": str(retry_id),
                "failure_key": failure_key(self.consumer_group, str(envelope.event_id)),
            },
            cause=envelope,
        )
        await self.publish(resolved)


class _FailureMiddleware(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: Any, reporter: FailureReporter) -> None:
        super().__init__(msg, context=context)
        self.reporter = reporter

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        group = self.reporter.consumer_group
        try:
            envelope: Envelope | None = Envelope.model_validate_json(msg.body)
        except ValidationError:
            envelope = None
        try:
            if envelope is None:
                raise UndecodableEvent("message is not a valid tripflow event envelope")
            result = await call_next(msg)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if is_infrastructure_fault(exc):
                HANDLED.labels(group, envelope.type if envelope else "?", "deferred").inc()
                log.warning(
                    "dependency unavailable; the event will be redelivered",
                    extra={"consumer_group": group, "error_type": type(exc).__name__},
                )
                await asyncio.sleep(INFRA_PAUSE_SECONDS)
                raise
            await self.reporter.report_failure(msg, exc, envelope)  # raises → nack → redelivery
            HANDLED.labels(group, envelope.type if envelope else "?", "failed").inc()
            return None
        assert envelope is not None
        await self.reporter.report_resolved(msg, envelope)
        HANDLED.labels(group, envelope.type, "ok").inc()
        return result
