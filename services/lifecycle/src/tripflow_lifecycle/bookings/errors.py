from __future__ import annotations

from tripflow_common.errors import TripflowError


class BookingNotFound(TripflowError):
    """The event refers to a booking not created yet: it may still arrive, so retry."""

    code = "booking_not_found"
    status_code = 404
    retryable = True


class InvalidTransition(TripflowError):
    """The event does not fit the booking's current state (yet): retry later."""

    code = "invalid_transition"
    status_code = 409
    retryable = True


class AmountMismatch(TripflowError):
    """The payment does not match the booking: an admin must look, retrying cannot help."""

    code = "amount_mismatch"
    status_code = 422
    retryable = False
