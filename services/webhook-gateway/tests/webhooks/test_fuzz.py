"""Fuzzing every webhook route with raw requests: never a 500, and a rejected request writes nothing.

Two runs: arbitrary requests (headers, signatures, bodies, content types), which nearly all fail
verification; and correctly signed arbitrary bodies, which reach the JSON parsing, the event rules
and the database. Header values stay within what an HTTP server hands to the app (tab, visible
ASCII, obs-text), since a real server rejects control characters before they reach us.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
import time
import uuid
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import ROUTES, STANDARD, STRIPE, SUPPLIER, row_counts, secret, stripe_hmac_headers

pytestmark = pytest.mark.integration

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
REJECTED = {400, 401, 404, 413, 415, 422}

# -- strategies --------------------------------------------------------------------------------------
HEADER_CHARS = (
    "\t" + "".join(chr(c) for c in range(0x20, 0x7F)) + "".join(chr(c) for c in range(0x80, 0x100))
)
TOKEN = st.text(
    alphabet=string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~", min_size=1, max_size=20
)
HEADER_VALUE = st.text(alphabet=HEADER_CHARS, max_size=120)


def _now_ish() -> st.SearchStrategy[int]:
    now = int(time.time())
    return st.one_of(
        st.integers(min_value=now - 400, max_value=now + 400),
        st.integers(min_value=0, max_value=10**13),
    )


HEX = st.text(alphabet="0123456789abcdefABCDEF", max_size=70)
STRIPE_SIGNATURE = st.one_of(
    HEADER_VALUE,
    st.lists(
        st.one_of(
            _now_ish().map(lambda t: f"t={t}"),
            HEX.map(lambda h: f"v1={h}"),
            HEX.map(lambda h: f"v0={h}"),
            st.tuples(TOKEN, HEADER_VALUE).map(lambda kv: f"{kv[0]}={kv[1]}"),
            HEADER_VALUE,
        ),
        max_size=6,
    ).map(",".join),
)
WEBHOOK_SIGNATURE = st.one_of(
    HEADER_VALUE,
    st.lists(
        st.one_of(
            st.binary(max_size=40).map(lambda b: "v1," + base64.b64encode(b).decode()),
            st.tuples(st.sampled_from(["v1", "v2", "v1a", ""]), HEADER_VALUE).map(",".join),
            HEADER_VALUE,
        ),
        max_size=4,
    ).map(" ".join),
)
CONTENT_TYPE = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "application/json;",
            " application/json ",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "application/jsonp",
            "application/vnd.api+json",
            "",
        ]
    ),
    HEADER_VALUE,
)
SIGNATURE_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "content-type": CONTENT_TYPE,
        "stripe-signature": STRIPE_SIGNATURE,
        "webhook-id": st.one_of(st.uuids().map(lambda u: f"msg_{u.hex}"), HEADER_VALUE),
        "webhook-timestamp": st.one_of(_now_ish().map(str), HEADER_VALUE),
        "webhook-signature": WEBHOOK_SIGNATURE,
        "content-length": st.one_of(
            st.integers(min_value=0, max_value=10**7).map(str), HEADER_VALUE
        ),
        "x-request-id": HEADER_VALUE,
    },
)
EXTRA_HEADERS = st.dictionaries(
    TOKEN.filter(lambda n: n.lower() not in {"content-length", "transfer-encoding", "host"}),
    HEADER_VALUE,
    max_size=4,
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=25,
)
BIG_BODY = b'{"pad": "' + b"a" * (256 * 1024) + b'"}'
RAW_BODIES = st.one_of(
    st.binary(max_size=2048),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.just(BIG_BODY),
)
ROUTE = st.one_of(
    st.sampled_from(list(ROUTES.values())),
    TOKEN.map(lambda p: "/api/payments/webhook/" + quote(p, safe="")),
)


def _header_bytes(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


# -- run 1: arbitrary requests -----------------------------------------------------------------------
@FUZZ
@given(
    path=ROUTE,
    headers=SIGNATURE_HEADERS,
    extra=EXTRA_HEADERS,
    body=RAW_BODIES,
)
async def test_arbitrary_requests_never_500_and_write_nothing(
    gateway: httpx.AsyncClient,
    db: asyncpg.Connection,
    path: str,
    headers: dict[str, str],
    extra: dict[str, str],
    body: bytes,
) -> None:
    before = await row_counts(db)
    r = await gateway.post(path, content=body, headers=_header_bytes({**extra, **headers}))
    # A forged signature cannot pass, so every answer here is a rejection with a stable code.
    assert r.status_code in REJECTED, (r.status_code, r.text)
    assert r.json()["code"]
    assert await row_counts(db) == before


# -- run 2: correctly signed arbitrary bodies -------------------------------------------------------
def _maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(value, JSON_VALUES)


BOOKING_ID = st.one_of(st.uuids().map(lambda u: f"BK-{u.hex[:12]}"), st.text(max_size=210))
STRIPE_OBJECT = st.fixed_dictionaries(
    {},
    optional={
        "id": _maybe(st.just("pi_fuzz")),
        "amount": _maybe(st.integers(min_value=-5, max_value=2**64)),
        "amount_received": _maybe(st.integers(min_value=-5, max_value=10**9)),
        "amount_total": _maybe(st.integers(min_value=-5, max_value=10**9)),
        "currency": _maybe(st.sampled_from(["eur", "USD", "gbp", "EURO", "e"])),
        "payment_intent": _maybe(st.just("pi_fuzz")),
        "metadata": _maybe(st.fixed_dictionaries({"booking_id": _maybe(BOOKING_ID)})),
    },
)
EVENT_ID = st.one_of(
    st.uuids().map(lambda u: f"evt_{u.hex}"),
    st.text(max_size=30),
    st.text(min_size=250, max_size=300),
)
STRIPE_EVENTS = st.fixed_dictionaries(
    {
        "id": _maybe(EVENT_ID),
        "type": _maybe(
            st.sampled_from(
                ["payment_intent.succeeded", "checkout.session.completed", "charge.refunded"]
            )
        ),
    },
    optional={"data": _maybe(st.fixed_dictionaries({"object": _maybe(STRIPE_OBJECT)}))},
)
STANDARD_EVENTS = st.fixed_dictionaries(
    {"type": _maybe(st.sampled_from(["payment.succeeded", "booking.confirmed", "payment.failed"]))},
    optional={
        "data": _maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "booking_id": _maybe(BOOKING_ID),
                    "payment_id": _maybe(st.just("pay_fuzz")),
                    "amount": _maybe(st.integers(min_value=-5, max_value=10**9)),
                    "currency": _maybe(st.sampled_from(["eur", "USD", "EURO"])),
                    "supplier_ref": _maybe(st.just("SUP-1")),
                    "supplier_name": _maybe(st.just("Fuzz Travel")),
                    "confirmed_at": _maybe(st.just("2027-01-01T10:00:00Z")),
                },
            )
        ),
    },
)


def _encode(value: Any, ascii_only: bool) -> bytes:
    # ensure_ascii=False with a lone surrogate gives bytes that are not UTF-8: also worth sending.
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


SIGNED_BODIES = st.one_of(
    st.tuples(STRIPE_EVENTS | STANDARD_EVENTS | JSON_VALUES, st.booleans()).map(
        lambda a: _encode(*a)
    ),
    st.sampled_from(
        [
            b'{"id": "evt_nan", "type": "x", "n": NaN}',
            b'{"id": "evt_inf", "type": "x", "n": 1e999}',
            b'{"id": "evt_nul\\u0000", "type": "x"}',
            b'{"type": "payment.succeeded", "data": {"booking_id": "\\ud800"}}',
            b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            b"\xef\xbb\xbf{}",
        ]
    ),
    st.binary(max_size=512),
)
TARGET = st.sampled_from(["stripe", "auto-stripe", "standard", "auto-standard", "supplier"])


def _signed(
    target: str, body: bytes, env: dict[str, str]
) -> tuple[str, str, str | None, dict[str, str]]:
    """(path, provider, event id if known from the headers, headers) with a valid signature."""
    if target.endswith("stripe"):
        path = ROUTES["auto" if target.startswith("auto") else "stripe"]
        return path, "stripe", None, stripe_hmac_headers(body, secret(env, STRIPE))
    provider = "supplier" if target == "supplier" else "standard"
    path = ROUTES["auto" if target.startswith("auto") else provider]
    key = base64.b64decode(
        secret(env, SUPPLIER if provider == "supplier" else STANDARD).removeprefix("whsec_")
    )
    msg_id, ts = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    signature = base64.b64encode(
        hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    )
    return (
        path,
        provider,
        msg_id,
        {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": ts,
            "webhook-signature": "v1," + signature.decode(),
        },
    )


@FUZZ
@given(target=TARGET, body=SIGNED_BODIES)
async def test_signed_arbitrary_bodies_never_500(
    gateway: httpx.AsyncClient,
    tripflow_env: dict[str, str],
    db: asyncpg.Connection,
    target: str,
    body: bytes,
) -> None:
    path, provider, msg_id, headers = _signed(target, body, tripflow_env)
    events_before, outbox_before = await row_counts(db)
    r = await gateway.post(path, content=body, headers=headers)
    assert r.status_code in {200, 400, 413, 422}, (r.status_code, r.text)
    events_after, outbox_after = await row_counts(db)
    if r.status_code != 200:
        assert r.json()["code"] in {"malformed_json", "invalid_event", "payload_too_large"}
        assert (events_after, outbox_after) == (events_before, outbox_before)
        return
    answer = r.json()
    expected = {"accepted": (1, 1), "ignored": (1, 0), "duplicate": (0, 0)}[answer["status"]]
    assert (events_after - events_before, outbox_after - outbox_before) == expected
    row = await db.fetchrow(
        "SELECT outcome, published_event_id FROM gateway.webhook_events "
        "WHERE provider = $1 AND event_id = $2",
        provider,
        msg_id or answer["event_id"],
    )
    assert row is not None
    if answer["status"] != "duplicate":
        assert row["outcome"] == answer["status"]
        assert (row["published_event_id"] is not None) == (answer["status"] == "accepted")
