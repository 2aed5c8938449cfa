"""Sample bookings, as the checkout system would publish them."""

from __future__ import annotations

import random
from typing import Any

from aiokafka import AIOKafkaProducer

from tripflow_common.events import Envelope, Topic

DESTINATIONS = [
    ("Lisbon", "Alfama walking tour"),
    ("Kyoto", "Temple morning"),
    ("Reykjavik", "Golden Circle"),
    ("Cusco", "Sacred Valley"),
    ("Marrakesh", "Medina food walk"),
]


def sample_booking(
    booking_id: str, amount: int | None = None, currency: str = "EUR"
) -> dict[str, Any]:
    city, activity = random.choice(DESTINATIONS)
    hotel = amount // 2 if amount else random.randint(400, 900) * 100
    tour = (amount - hotel) if amount else random.randint(50, 200) * 100
    return {
        "booking_id": booking_id,
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "total_amount": hotel + tour,
        "currency": currency,
        "items": [
            {"description": f"Hotel in {city}, 3 nights", "amount": hotel},
            {"description": activity, "amount": tour},
        ],
        "travellers": ["Ada Lovelace", "Charles Babbage"],
        "supplier": {"name": f"{city} Travel Partners"},
        "itinerary": [
            {"date": "2027-05-01", "title": "Arrival and hotel check-in", "location": city},
            {"date": "2027-05-02", "title": activity, "location": city},
            {"date": "2027-05-04", "title": "Departure", "location": city},
        ],
    }


def booking_created(data: dict[str, Any]) -> Envelope:
    return Envelope.new(
        Topic.BOOKING_CREATED, booking_id=data["booking_id"], producer="checkout", data=data
    )


async def publish_events(bootstrap: str, events: list[Envelope], namespace: str = "") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = [
            await producer.send(
                namespace + e.type,
                e.to_bytes(),
                key=e.booking_id.encode(),
                headers=[("content-type", b"application/json")],
            )
            for e in events
        ]
        for f in futures:
            await f
    finally:
        await producer.stop()
