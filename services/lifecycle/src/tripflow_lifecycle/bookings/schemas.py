"""The `data` of the events lifecycle consumes: the shared contracts (DESIGN.md §3)."""

from tripflow_common.contracts import (
    BookingCreatedData as BookingCreated,
)
from tripflow_common.contracts import (
    DocumentsGeneratedData as DocumentsGenerated,
)
from tripflow_common.contracts import (
    PaymentConfirmedData as PaymentConfirmed,
)
from tripflow_common.contracts import (
    SupplierConfirmedData as SupplierConfirmed,
)

__all__ = ["BookingCreated", "DocumentsGenerated", "PaymentConfirmed", "SupplierConfirmed"]
