"""Signature schemes, verified over the raw body exactly as Stripe and Standard Webhooks define them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tripflow_gateway.webhooks.errors import (
    MissingWebhookHeaders,
    WebhookSignatureError,
    WebhookTimestampError,
)


@dataclass(frozen=True)
class StripeSignatureHeader:
    timestamp: int
    signatures: tuple[str, ...]


@dataclass(frozen=True)
class StandardSignatureHeaders:
    message_id: str
    timestamp: int
    signatures: tuple[bytes, ...]


def parse_stripe_header(header: str) -> StripeSignatureHeader:
    """`t=…,v1=…[,v1=…]`; other schemes (v0) are ignored. Raises on anything unusable."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if not value.isascii() or not value.isdigit() or len(value) > 12:
                raise WebhookSignatureError("Stripe-Signature has an unreadable timestamp")
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise WebhookSignatureError("Stripe-Signature lacks a timestamp or a v1 signature")
    return StripeSignatureHeader(timestamp, tuple(signatures))


def parse_standard_headers(headers: Mapping[str, str]) -> StandardSignatureHeaders:
    """`webhook-id`, `webhook-timestamp`, and `webhook-signature` with space-separated `v1,<base64>`."""
    message_id = headers.get("webhook-id")
    raw_ts = headers.get("webhook-timestamp")
    raw_sig = headers.get("webhook-signature")
    if not message_id or not raw_ts or not raw_sig:
        raise MissingWebhookHeaders(
            "webhook-id, webhook-timestamp and webhook-signature headers are required"
        )
    if not raw_ts.isascii() or not raw_ts.isdigit() or len(raw_ts) > 12:
        raise WebhookTimestampError("webhook-timestamp is not a Unix timestamp")
    signatures: list[bytes] = []
    for part in raw_sig.split(" "):
        version, sep, value = part.partition(",")
        if version != "v1" or not sep:
            continue
        try:
            signatures.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not signatures:
        raise WebhookSignatureError("webhook-signature holds no v1 signature")
    return StandardSignatureHeaders(message_id, int(raw_ts), tuple(signatures))


def check_timestamp(timestamp: int, now: float, tolerance: int) -> None:
    """Too old or too far in the future: both are replays or broken clocks."""
    if abs(now - timestamp) > tolerance:
        raise WebhookTimestampError("webhook timestamp is outside the accepted tolerance")


def _any_match(expected: Sequence[bytes], given: Sequence[bytes]) -> bool:
    matched = False
    for e in expected:
        for g in given:
            matched |= hmac.compare_digest(e, g)  # no early exit: time does not tell which
    return matched


def verify_stripe(
    header: str | None, body: bytes, secrets: Sequence[str], *, now: float, tolerance: int
) -> StripeSignatureHeader:
    if not header:
        raise MissingWebhookHeaders("Stripe-Signature header is required")
    parsed = parse_stripe_header(header)
    check_timestamp(parsed.timestamp, now, tolerance)
    signed = str(parsed.timestamp).encode() + b"." + body
    expected = [
        hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest().encode() for secret in secrets
    ]
    if not _any_match(expected, [s.encode() for s in parsed.signatures]):
        raise WebhookSignatureError("no signature matches")
    return parsed


def standard_secret_key(secret: str) -> bytes:
    """`whsec_<base64>` → the HMAC key; a secret without the prefix is taken as base64 too."""
    encoded = secret.removeprefix("whsec_")
    try:
        # Padding is optional in published secrets, as the reference library accepts.
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a Standard Webhooks secret must be whsec_<base64>") from exc


def verify_standard(
    headers: Mapping[str, str], body: bytes, secrets: Sequence[str], *, now: float, tolerance: int
) -> StandardSignatureHeaders:
    parsed = parse_standard_headers(headers)
    check_timestamp(parsed.timestamp, now, tolerance)
    signed = f"{parsed.message_id}.{parsed.timestamp}.".encode() + body
    expected = [hmac.new(standard_secret_key(s), signed, hashlib.sha256).digest() for s in secrets]
    if not _any_match(expected, parsed.signatures):
        raise WebhookSignatureError("no signature matches")
    return parsed
