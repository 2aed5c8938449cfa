"""The committed AsyncAPI document is what the code generates now."""

from __future__ import annotations

import json
from pathlib import Path

from tripflow_cli import asyncapi
from tripflow_common.contracts import PAYLOADS

ROOT = Path(__file__).resolve().parents[1]


def test_committed_asyncapi_document_is_current() -> None:
    committed = (ROOT / asyncapi.DOCUMENT).read_text()
    assert committed == asyncapi.render(), (
        "docs/asyncapi/tripflow.json is stale: run `tripflow asyncapi`"
    )


def test_every_topic_has_its_key_and_payload_schema() -> None:
    document = json.loads((ROOT / asyncapi.DOCUMENT).read_text())
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {t.value for t in PAYLOADS} <= addresses
    messages = document["components"]["messages"]
    published = messages["payment.confirmed:publish:Message"]
    assert published["bindings"]["kafka"]["key"]["type"] == "string"
    schema_name = published["payload"]["$ref"].rsplit("/", 1)[1]
    data_ref = document["components"]["schemas"][schema_name]["properties"]["data"]["$ref"].rsplit(
        "/", 1
    )[1]
    assert set(document["components"]["schemas"][data_ref]["required"]) >= {
        "amount",
        "currency",
        "payment_id",
    }
