"""The booking snapshot lifecycle sends (event-carried state): the shared contract."""

from tripflow_common.contracts import BookingSnapshot

__all__ = ["BookingSnapshot"]
