"""tripflow documents service: invoice, voucher and itinerary PDFs, exactly once per booking and type."""

SERVICE = "documents"
SCHEMA = "documents"
CONSUMER_GROUP = "documents"
