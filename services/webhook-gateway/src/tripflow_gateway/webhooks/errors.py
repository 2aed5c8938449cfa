from __future__ import annotations

from tripflow_common.errors import TripflowError


class WebhookRejected(TripflowError):
    """Base of every rejected webhook; `reason` labels the rejection metric."""

    reason = "rejected"


class MissingWebhookHeaders(WebhookRejected):
    code = "missing_headers"
    reason = "missing_headers"
    status_code = 400


class MalformedWebhookBody(WebhookRejected):
    code = "malformed_json"
    reason = "malformed_json"
    status_code = 400


class WebhookSignatureError(WebhookRejected):
    code = "invalid_signature"
    reason = "invalid_signature"
    status_code = 401


class WebhookTimestampError(WebhookRejected):
    code = "timestamp_out_of_tolerance"
    reason = "timestamp_out_of_tolerance"
    status_code = 401


class WebhookTooLarge(WebhookRejected):
    code = "payload_too_large"
    reason = "payload_too_large"
    status_code = 413


class WebhookNotJson(WebhookRejected):
    code = "unsupported_media_type"
    reason = "unsupported_media_type"
    status_code = 415


class InvalidWebhookEvent(WebhookRejected):
    code = "invalid_event"
    reason = "invalid_event"
    status_code = 422


class UnknownProvider(WebhookRejected):
    code = "unknown_provider"
    reason = "unknown_provider"
    status_code = 404
