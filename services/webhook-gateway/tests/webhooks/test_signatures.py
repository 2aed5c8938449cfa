"""Signature schemes and body parsing, without a server.

Signatures come from the providers' own libraries (`stripe`, `standardwebhooks`), so these tests
check our verifier against an independent implementation, not against itself. Property tests feed
the header parsers arbitrary input: they must reject it with a WebhookRejected, never crash.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook

from tripflow_gateway.webhooks.errors import (
    InvalidWebhookEvent,
    MalformedWebhookBody,
    MissingWebhookHeaders,
    WebhookRejected,
    WebhookSignatureError,
    WebhookTimestampError,
)
from tripflow_gateway.webhooks.schemas import (
    MAX_EVENT_ID_LENGTH,
    MAX_JSON_DEPTH,
    load_json,
    standard_payment_event,
    stripe_event,
    supplier_event,
)
from tripflow_gateway.webhooks.service import detect_payment_provider
from tripflow_gateway.webhooks.signatures import (
    parse_standard_headers,
    parse_stripe_header,
    standard_secret_key,
    verify_standard,
    verify_stripe,
)

TOLERANCE = 300
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

STRIPE_SECRET = "whsec_test_" + secrets.token_hex(16)
STRIPE_OLD_SECRET = "whsec_old_" + secrets.token_hex(16)
STANDARD_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
OTHER_STANDARD_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
BODY = b'{"id": "evt_1", "type": "payment_intent.succeeded"}'


# -- factories ------------------------------------------------------------------------------
def stripe_header(body: bytes, secret: str, timestamp: int) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp
    )


def standard_headers(body: bytes, secret: str, msg_id: str, timestamp: int) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def check_stripe(
    header: str | None,
    body: bytes = BODY,
    *,
    now: float | None = None,
    secrets_: list[str] | None = None,
) -> None:
    verify_stripe(
        header,
        body,
        secrets_ or [STRIPE_SECRET, STRIPE_OLD_SECRET],
        now=now if now is not None else time.time(),
        tolerance=TOLERANCE,
    )


def check_standard(
    headers: dict[str, str],
    body: bytes = BODY,
    *,
    now: float | None = None,
    secrets_: list[str] | None = None,
) -> None:
    verify_standard(
        headers,
        body,
        secrets_ or [STANDARD_SECRET],
        now=now if now is not None else time.time(),
        tolerance=TOLERANCE,
    )


def flip_byte(body: bytes, index: int) -> bytes:
    return body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]


# -- Stripe ---------------------------------------------------------------------------------
def test_stripe_library_signature_verifies() -> None:
    now = int(time.time())
    parsed = verify_stripe(
        stripe_header(BODY, STRIPE_SECRET, now), BODY, [STRIPE_SECRET], now=now, tolerance=TOLERANCE
    )
    assert parsed.timestamp == now


def test_stripe_rotation_secret_verifies() -> None:
    check_stripe(stripe_header(BODY, STRIPE_OLD_SECRET, int(time.time())))


@pytest.mark.parametrize("index", [0, len(BODY) // 2, len(BODY) - 1])
def test_stripe_tampered_body_byte_fails(index: int) -> None:
    header = stripe_header(BODY, STRIPE_SECRET, int(time.time()))
    with pytest.raises(WebhookSignatureError):
        check_stripe(header, flip_byte(BODY, index))


def test_stripe_tampered_timestamp_fails() -> None:
    now = int(time.time())
    signature = stripe_header(BODY, STRIPE_SECRET, now).split(",", 1)[1]
    with pytest.raises(WebhookSignatureError):
        check_stripe(f"t={now - 1},{signature}")


def test_stripe_other_secret_fails() -> None:
    header = stripe_header(BODY, "whsec_someone_else_" + secrets.token_hex(8), int(time.time()))
    with pytest.raises(WebhookSignatureError):
        check_stripe(header)


def test_stripe_v0_and_several_v1_pass_when_one_matches() -> None:
    now = int(time.time())
    good = stripe_header(BODY, STRIPE_SECRET, now).split("v1=", 1)[1]
    header = f"t={now},v0={'0' * 64},v1={'a' * 64},v1={good},v1={'b' * 64}"
    check_stripe(header)


def test_stripe_v0_alone_is_not_a_signature() -> None:
    now = int(time.time())
    good = stripe_header(BODY, STRIPE_SECRET, now).split("v1=", 1)[1]
    with pytest.raises(WebhookSignatureError):
        check_stripe(f"t={now},v0={good}")


@pytest.mark.parametrize(("offset", "ok"), [(-301, False), (301, False), (-299, True), (299, True)])
def test_stripe_timestamp_tolerance(offset: int, ok: bool) -> None:
    now = int(time.time())
    header = stripe_header(BODY, STRIPE_SECRET, now + offset)
    if ok:
        check_stripe(header, now=now)
    else:
        with pytest.raises(WebhookTimestampError):
            check_stripe(header, now=now)


@pytest.mark.parametrize("header", [None, ""])
def test_stripe_missing_header(header: str | None) -> None:
    with pytest.raises(MissingWebhookHeaders):
        check_stripe(header)


@pytest.mark.parametrize(
    "header",
    [
        "t=",
        "t=abc,v1=00",
        "v1=" + "0" * 64,
        "t=123",
        "t=123,v1=",
        "t=-5,v1=00",
        "t=1e9,v1=00",
        "t=٣٣٣,v1=00",
        "t=1234567890123,v1=00",
        "garbage",
        ",,,",
        "=,=,=",
    ],
)
def test_stripe_unusable_headers_rejected(header: str) -> None:
    with pytest.raises(WebhookSignatureError):
        parse_stripe_header(header)


# -- Standard Webhooks -------------------------------------------------------------------------
def test_standard_library_signature_verifies() -> None:
    check_standard(standard_headers(BODY, STANDARD_SECRET, "msg_1", int(time.time())))


def test_standard_rotation_secret_verifies() -> None:
    headers = standard_headers(BODY, OTHER_STANDARD_SECRET, "msg_1", int(time.time()))
    check_standard(headers, secrets_=[STANDARD_SECRET, OTHER_STANDARD_SECRET])


@pytest.mark.parametrize("tamper", ["id", "timestamp", "body", "secret"])
def test_standard_tampering_fails(tamper: str) -> None:
    now = int(time.time())
    secret = OTHER_STANDARD_SECRET if tamper == "secret" else STANDARD_SECRET
    headers = standard_headers(BODY, secret, "msg_1", now)
    body = BODY
    if tamper == "id":
        headers["webhook-id"] = "msg_2"
    elif tamper == "timestamp":
        headers["webhook-timestamp"] = str(now - 1)
    elif tamper == "body":
        body = flip_byte(BODY, 5)
    with pytest.raises(WebhookSignatureError):
        check_standard(headers, body)


def test_standard_several_signatures_pass_when_one_matches() -> None:
    headers = standard_headers(BODY, STANDARD_SECRET, "msg_1", int(time.time()))
    other = Webhook(OTHER_STANDARD_SECRET).sign("msg_1", datetime.now(UTC), BODY.decode())
    headers["webhook-signature"] = f"v2,abc {other} {headers['webhook-signature']} v1,!!!"
    check_standard(headers)


@pytest.mark.parametrize(("offset", "ok"), [(-301, False), (301, False), (-299, True), (299, True)])
def test_standard_timestamp_tolerance(offset: int, ok: bool) -> None:
    now = int(time.time())
    headers = standard_headers(BODY, STANDARD_SECRET, "msg_1", now + offset)
    if ok:
        check_standard(headers, now=now)
    else:
        with pytest.raises(WebhookTimestampError):
            check_standard(headers, now=now)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_standard_missing_header(missing: str) -> None:
    headers = standard_headers(BODY, STANDARD_SECRET, "msg_1", int(time.time()))
    del headers[missing]
    with pytest.raises(MissingWebhookHeaders):
        check_standard(headers)


@given(raw=st.binary(min_size=1, max_size=64))
@PROPERTY
def test_standard_secret_key_matches_reference_library(raw: bytes) -> None:
    encoded = base64.b64encode(raw).decode()
    for secret in (f"whsec_{encoded}", f"whsec_{encoded.rstrip('=')}", encoded):
        assert standard_secret_key(secret) == Webhook(secret)._whsecret == raw


# -- the scheme on /api/payments/webhook ------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"stripe-signature": "t=1,v1=00"}, "stripe"),
        ({"webhook-id": "msg_1"}, "standard"),
        ({"webhook-signature": "v1,AA=="}, "standard"),
        ({"stripe-signature": "x", "webhook-id": "y"}, "stripe"),
    ],
)
def test_detect_payment_provider(headers: dict[str, str], expected: str) -> None:
    assert detect_payment_provider(headers) == expected


def test_detect_payment_provider_without_signature_headers() -> None:
    with pytest.raises(MissingWebhookHeaders):
        detect_payment_provider({"content-type": "application/json"})


# -- property tests: arbitrary input is rejected, never crashes --------------------------------
STRIPE_ITEM = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda k, v: f"{k}={v}",
        st.sampled_from(["t", "v1", "v0", "v2", "T", " v1"]),
        st.text(max_size=70),
    ),
    st.builds(lambda v: f"t={v}", st.integers(min_value=-(10**15), max_value=10**15)),
    st.builds(lambda v: f"v1={v}", st.text(alphabet="0123456789abcdefABCDEF", max_size=70)),
)


@given(header=st.text(max_size=300))
@PROPERTY
@example(header="t=123,v1=abc")
@example(header="t=\u0663\u0663,v1=ab")
@example(header="t=" + "9" * 40 + ",v1=ab")
def test_parse_stripe_header_never_crashes(header: str) -> None:
    try:
        parsed = parse_stripe_header(header)
    except WebhookRejected:
        return
    assert parsed.timestamp >= 0
    assert parsed.signatures and all(s == s.lower() and s for s in parsed.signatures)


@given(items=st.lists(STRIPE_ITEM, max_size=8))
@PROPERTY
def test_parse_stripe_structured_header_never_crashes(items: list[str]) -> None:
    with contextlib.suppress(WebhookRejected):
        parse_stripe_header(",".join(items))


@given(items=st.lists(STRIPE_ITEM, max_size=6), position=st.integers(min_value=0, max_value=6))
@PROPERTY
def test_stripe_matching_v1_anywhere_among_noise_passes(items: list[str], position: int) -> None:
    now = int(time.time())
    good = stripe_header(BODY, STRIPE_SECRET, now).split(",", 1)[1]
    # Any second `t=` would replace our timestamp; everything else is noise the parser must skip.
    noise = [p for i in items for p in i.split(",") if p.strip().partition("=")[0] != "t"]
    noise.insert(min(position, len(noise)), good)
    check_stripe(",".join([f"t={now}", *noise]))


STANDARD_HEADER_NAMES = st.sampled_from(
    ["webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "x-other"]
)


@given(headers=st.dictionaries(STANDARD_HEADER_NAMES | st.text(max_size=10), st.text(max_size=120)))
@PROPERTY
def test_parse_standard_headers_never_crash(headers: dict[str, str]) -> None:
    try:
        parsed = parse_standard_headers(headers)
    except WebhookRejected:
        return
    assert parsed.message_id and parsed.signatures and parsed.timestamp >= 0


@given(
    msg_id=st.text(min_size=1, max_size=40),
    ts=st.one_of(st.text(max_size=15), st.integers(min_value=0, max_value=10**12).map(str)),
    sig=st.lists(
        st.one_of(
            st.text(max_size=60),
            st.builds(
                lambda v, b: f"{v},{b}",
                st.sampled_from(["v1", "v1a", "v2", ""]),
                st.text(max_size=60),
            ),
            st.binary(max_size=40).map(lambda b: "v1," + base64.b64encode(b).decode()),
        ),
        max_size=5,
    ).map(" ".join),
)
@PROPERTY
def test_verify_standard_never_crashes(msg_id: str, ts: str, sig: str) -> None:
    headers = {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": sig}
    with pytest.raises(WebhookRejected):
        check_standard(headers)


@given(header=st.text(max_size=200), body=st.binary(max_size=200))
@PROPERTY
def test_verify_stripe_never_crashes(header: str, body: bytes) -> None:
    with pytest.raises(WebhookRejected):
        check_stripe(header, body)


UTF8_TEXT = st.characters(codec="utf-8")


@given(
    body=st.text(alphabet=UTF8_TEXT, max_size=500),
    secret=st.text(alphabet=UTF8_TEXT, min_size=1, max_size=60),
    offset=st.integers(min_value=-TOLERANCE, max_value=TOLERANCE),
)
@PROPERTY
def test_any_stripe_library_signature_within_tolerance_verifies(
    body: str, secret: str, offset: int
) -> None:
    now = int(time.time())
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=now + offset)
    verify_stripe(header, body.encode(), [secret], now=now, tolerance=TOLERANCE)


@given(
    body=st.text(alphabet=UTF8_TEXT, min_size=1, max_size=300),
    msg_id=st.text(alphabet=UTF8_TEXT, min_size=1, max_size=40),
    index=st.integers(min_value=0),
)
@PROPERTY
def test_any_standard_signature_verifies_and_any_flipped_byte_fails(
    body: str, msg_id: str, index: int
) -> None:
    now = int(time.time())
    headers = standard_headers(body.encode(), STANDARD_SECRET, msg_id, now)
    check_standard(headers, body.encode(), now=now)
    raw = body.encode()
    with pytest.raises(WebhookSignatureError):
        check_standard(headers, flip_byte(raw, index % len(raw)), now=now)


# -- body parsing -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"[1, 2]",
        b'"a string"',
        b"\xff\xfe{}",
        b'{"amount": NaN}',
        b'{"amount": Infinity}',
        b'{"amount": -Infinity}',
        b'{"amount": 1e400}',
        b'{"name": "a\\u0000b"}',
        b'{"a\\u0000": 1}',
        b'{"name": "\\ud800"}',
        b'{"deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"deep": ' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}",
    ],
)
def test_load_json_rejects_what_cannot_be_stored(body: bytes) -> None:
    with pytest.raises(MalformedWebhookBody):
        load_json(body)


def test_load_json_accepts_an_event() -> None:
    body = {"id": "evt_1", "amount": 1.5, "nested": [[{"x": "\u00e9\U0001f600"}]]}
    assert load_json(json.dumps(body).encode()) == body
    assert load_json(json.dumps(body, ensure_ascii=False).encode()) == body


def test_load_json_accepts_nesting_up_to_the_limit() -> None:
    depth = MAX_JSON_DEPTH - 1
    assert load_json(b'{"deep": ' + b"[" * depth + b"]" * depth + b"}")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(
    body=st.one_of(
        st.binary(max_size=300),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        JSON_VALUES.map(
            lambda v: json.dumps({"v": v}, ensure_ascii=False).encode("utf-8", "surrogatepass")
        ),
    )
)
@PROPERTY
def test_load_json_gives_a_storable_object_or_rejects(body: bytes) -> None:
    try:
        parsed = load_json(body)
    except MalformedWebhookBody:
        return
    assert isinstance(parsed, dict)
    json.dumps(parsed, allow_nan=False)  # what goes into JSONB: no NaN, no infinity
    stack: list[Any] = [parsed]
    while stack:  # no NUL and no unpaired surrogate anywhere, keys included
        item = stack.pop()
        if isinstance(item, str):
            assert "\x00" not in item
            item.encode("utf-8")
        elif isinstance(item, dict):
            stack.extend([*item.keys(), *item.values()])
        elif isinstance(item, list):
            stack.extend(item)


# -- events --------------------------------------------------------------------------------------
def stripe_payload(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": "evt_1", "type": event_type, "data": {"object": obj}}


def test_stripe_payment_intent_facts() -> None:
    event = stripe_event(
        stripe_payload(
            "payment_intent.succeeded",
            {
                "id": "pi_1",
                "amount": 1000,
                "amount_received": 1000,
                "currency": "eur",
                "metadata": {"booking_id": "BK-1"},
            },
        )
    )
    assert event.topic == "payment.confirmed"
    assert event.booking_id == "BK-1"
    assert event.data == {
        "provider": "stripe",
        "provider_event_id": "evt_1",
        "payment_id": "pi_1",
        "amount": 1000,
        "currency": "EUR",
    }


def test_stripe_checkout_session_facts() -> None:
    event = stripe_event(
        stripe_payload(
            "checkout.session.completed",
            {
                "id": "cs_1",
                "amount_total": 2500,
                "currency": "usd",
                "payment_intent": "pi_9",
                "metadata": {"booking_id": "BK-2"},
            },
        )
    )
    assert (event.booking_id, event.data["amount"], event.data["currency"]) == ("BK-2", 2500, "USD")
    assert event.data["payment_id"] == "pi_9"


@pytest.mark.parametrize(
    ("status", "publishes"), [("paid", True), ("unpaid", False), ("no_payment_required", True)]
)
def test_checkout_session_completed_unpaid_is_not_a_payment(status: str, publishes: bool) -> None:
    obj = {
        "id": "cs_2",
        "amount_total": 2500,
        "currency": "eur",
        "payment_status": status,
        "metadata": {"booking_id": "BK-3"},
    }
    event = stripe_event(stripe_payload("checkout.session.completed", obj))
    assert (event.topic is not None) is publishes


@pytest.mark.parametrize("missing", ["booking_id", "amount", "currency"])
def test_stripe_payment_without_a_fact_is_invalid(missing: str) -> None:
    obj: dict[str, Any] = {
        "id": "pi_1",
        "amount": 1000,
        "currency": "eur",
        "metadata": {"booking_id": "BK-1"},
    }
    if missing == "booking_id":
        obj["metadata"] = {}
    else:
        del obj[missing]
    with pytest.raises(InvalidWebhookEvent):
        stripe_event(stripe_payload("payment_intent.succeeded", obj))


def test_stripe_other_type_is_recorded_but_publishes_nothing() -> None:
    event = stripe_event({"id": "evt_2", "type": "customer.created"})
    assert event.topic is None and event.event_type == "customer.created"


def test_event_id_length_is_capped() -> None:
    with pytest.raises(InvalidWebhookEvent):
        stripe_event({"id": "e" * (MAX_EVENT_ID_LENGTH + 1), "type": "customer.created"})
    with pytest.raises(InvalidWebhookEvent):
        supplier_event("m" * (MAX_EVENT_ID_LENGTH + 1), {"type": "booking.confirmed"})


PAYMENT_FIELD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@given(
    event_type=st.sampled_from(["payment_intent.succeeded", "checkout.session.completed", "other"]),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "id",
                "amount",
                "amount_received",
                "amount_total",
                "currency",
                "payment_intent",
                "metadata",
            ]
        ),
        PAYMENT_FIELD | st.fixed_dictionaries({"booking_id": PAYMENT_FIELD}),
    ),
    data=st.one_of(st.none(), st.text(max_size=3), st.just("object")),
)
@PROPERTY
def test_stripe_event_from_arbitrary_fields_never_crashes(
    event_type: str, fields: dict[str, Any], data: str | None
) -> None:
    payload: dict[str, Any] = {
        "id": "evt_1",
        "type": event_type,
        "data": {"object": fields} if data == "object" else data,
    }
    try:
        event = stripe_event(payload)
    except InvalidWebhookEvent:
        return
    if event.topic is not None:
        assert isinstance(event.data["amount"], int) and event.data["amount"] > 0
        assert len(event.data["currency"]) == 3 and event.data["currency"].isupper()
        assert event.booking_id


@given(
    data=st.one_of(
        PAYMENT_FIELD,
        st.dictionaries(
            st.sampled_from(
                [
                    "booking_id",
                    "payment_id",
                    "amount",
                    "currency",
                    "supplier_ref",
                    "supplier_name",
                    "confirmed_at",
                ]
            ),
            PAYMENT_FIELD,
        ),
    ),
    event_type=st.sampled_from(["payment.succeeded", "booking.confirmed", "x"]) | st.integers(),
)
@PROPERTY
def test_standard_and_supplier_events_never_crash(data: Any, event_type: Any) -> None:
    payload = {"type": event_type, "data": data}
    for build in (standard_payment_event, supplier_event):
        try:
            event = build("msg_1", payload)
        except InvalidWebhookEvent:
            continue
        assert event.event_id == "msg_1"
        if event.topic is not None:
            assert event.booking_id


def test_currency_must_be_three_letters() -> None:
    for currency in ("EURO", "E1R", "EUR\n", "€UR", ""):
        with pytest.raises(InvalidWebhookEvent):
            standard_payment_event(
                "msg_1",
                {
                    "type": "payment.succeeded",
                    "data": {
                        "booking_id": "BK-1",
                        "payment_id": "p",
                        "amount": 1,
                        "currency": currency,
                    },
                },
            )


@pytest.mark.parametrize("amount", [True, "1000", 1000.0, 0, -1, 2**63, None])
def test_payment_amount_must_be_a_positive_json_integer_that_fits_bigint(amount: Any) -> None:
    with pytest.raises(InvalidWebhookEvent):
        standard_payment_event(
            "msg_1",
            {
                "type": "payment.succeeded",
                "data": {
                    "booking_id": "BK-1",
                    "payment_id": "p",
                    "amount": amount,
                    "currency": "EUR",
                },
            },
        )
    event = standard_payment_event(
        "msg_1",
        {
            "type": "payment.succeeded",
            "data": {
                "booking_id": "BK-1",
                "payment_id": "p",
                "amount": 2**63 - 1,
                "currency": "EUR",
            },
        },
    )
    assert event.data["amount"] == 2**63 - 1
