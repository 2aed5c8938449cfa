"""tripflow lifecycle service: bookings, payments, the booking state machine."""

SERVICE = "lifecycle"
SCHEMA = "lifecycle"
CONSUMER_GROUP = "lifecycle"
