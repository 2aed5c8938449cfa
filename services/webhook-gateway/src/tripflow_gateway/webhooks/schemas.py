"""What a verified webhook means for tripflow: a payment, a supplier confirmation, or nothing."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from tripflow_common.events import Topic
from tripflow_gateway.webhooks.errors import InvalidWebhookEvent, MalformedWebhookBody

STRIPE_PAYMENT_TYPES = {"payment_intent.succeeded", "checkout.session.completed"}


class PaymentFacts(BaseModel):
    booking_id: str = Field(min_length=1, max_length=200)
    payment_id: str = Field(min_length=1, max_length=200)
    # Minor units as a JSON integer (not true, "12" or 12.0) that fits the BIGINT it is stored in.
    amount: int = Field(gt=0, le=2**63 - 1, strict=True)
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class SupplierFacts(BaseModel):
    booking_id: str = Field(min_length=1, max_length=200)
    supplier_ref: str = Field(min_length=1, max_length=200)
    supplier_name: str = Field(min_length=1, max_length=300)
    confirmed_at: str = Field(min_length=1, max_length=64)


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook: its dedupe identity and, if it matters, the event to publish."""

    provider: str
    event_id: str
    event_type: str
    payload: dict[str, Any]
    topic: Topic | None = None
    booking_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


MAX_JSON_DEPTH = 64  # real provider events nest a handful of levels; deeper is abuse


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: PostgreSQL JSONB has no infinity
        raise ValueError("number out of range")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN / Infinity: Python accepts them, JSON does not


def _storable(parsed: Any) -> bool:
    """No NUL, unpaired surrogate or absurd nesting: what PostgreSQL TEXT and JSONB refuse."""
    stack: list[tuple[Any, int]] = [(parsed, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif depth >= MAX_JSON_DEPTH and isinstance(item, (dict, list)):
            return False
        elif isinstance(item, dict):
            stack.extend((v, depth + 1) for pair in item.items() for v in pair)
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def load_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object we can store; anything else is a 400, never a 500 later on."""
    try:
        parsed = json.loads(body, parse_float=_finite_float, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedWebhookBody("body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise MalformedWebhookBody("body must be a JSON object")
    if not _storable(parsed):
        raise MalformedWebhookBody(
            "body holds a NUL character or an unpaired surrogate, "
            f"or nests deeper than {MAX_JSON_DEPTH} levels"
        )
    return parsed


def _facts(model: type[BaseModel], values: dict[str, Any]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise InvalidWebhookEvent("missing or invalid fields: " + ", ".join(fields)) from None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


MAX_EVENT_ID_LENGTH = 255  # the dedupe key is indexed: a btree row cannot hold kilobytes


def _check_event_id(value: str) -> None:
    if len(value) > MAX_EVENT_ID_LENGTH:
        raise InvalidWebhookEvent(f"event id longer than {MAX_EVENT_ID_LENGTH} characters")


def stripe_event(payload: dict[str, Any]) -> WebhookEvent:
    event_id = _str(payload.get("id"))
    event_type = _str(payload.get("type"))
    if not event_id or not event_type:
        raise InvalidWebhookEvent("a Stripe event needs id and type")
    _check_event_id(event_id)
    if event_type not in STRIPE_PAYMENT_TYPES:
        return WebhookEvent("stripe", event_id, event_type, payload)
    obj = _obj(payload.get("data")).get("object")
    if not isinstance(obj, dict):
        raise InvalidWebhookEvent("a Stripe event needs data.object")
    metadata = _obj(obj.get("metadata"))
    if event_type == "checkout.session.completed" and obj.get("payment_status", "paid") not in (
        "paid",
        "no_payment_required",
    ):
        # Delayed payment methods complete the session unpaid: not a confirmed payment (yet).
        return WebhookEvent("stripe", event_id, event_type, payload)
    if event_type == "checkout.session.completed":
        amount = obj.get("amount_total")
        payment_id = obj.get("payment_intent") or obj.get("id")
    else:
        amount = obj.get("amount_received") or obj.get("amount")
        payment_id = obj.get("id")
    facts = _facts(
        PaymentFacts,
        {
            "booking_id": metadata.get("booking_id"),
            "payment_id": payment_id,
            "amount": amount,
            "currency": obj.get("currency"),
        },
    )
    return _payment_event("stripe", event_id, event_type, payload, facts)


def standard_payment_event(message_id: str, payload: dict[str, Any]) -> WebhookEvent:
    _check_event_id(message_id)
    event_type = _str(payload.get("type"))
    if event_type != "payment.succeeded":
        return WebhookEvent("standard", message_id, event_type or "unknown", payload)
    facts = _facts(PaymentFacts, _obj(payload.get("data")))
    return _payment_event("standard", message_id, event_type, payload, facts)


def supplier_event(message_id: str, payload: dict[str, Any]) -> WebhookEvent:
    _check_event_id(message_id)
    event_type = _str(payload.get("type"))
    if event_type != "booking.confirmed":
        return WebhookEvent("supplier", message_id, event_type or "unknown", payload)
    facts: SupplierFacts = _facts(SupplierFacts, _obj(payload.get("data")))
    return WebhookEvent(
        "supplier",
        message_id,
        event_type,
        payload,
        topic=Topic.SUPPLIER_CONFIRMED,
        booking_id=facts.booking_id,
        data={
            "supplier_ref": facts.supplier_ref,
            "supplier_name": facts.supplier_name,
            "confirmed_at": facts.confirmed_at,
        },
    )


def _payment_event(
    provider: str, event_id: str, event_type: str, payload: dict[str, Any], facts: PaymentFacts
) -> WebhookEvent:
    return WebhookEvent(
        provider,
        event_id,
        event_type,
        payload,
        topic=Topic.PAYMENT_CONFIRMED,
        booking_id=facts.booking_id,
        data={
            "provider": provider,
            "provider_event_id": event_id,
            "payment_id": facts.payment_id,
            "amount": facts.amount,
            "currency": facts.currency,
        },
    )
