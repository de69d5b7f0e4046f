"""Webhook errors, each with its HTTP status and stable code."""

from daodian.kit.errors import Conflict, Invalid, NotFound


class AppNotFound(NotFound):
    code, message = "app_not_found", "No such app among yours."


class EndpointNotFound(NotFound):
    code, message = "webhook_endpoint_not_found", "No such webhook endpoint for this app."


class DeliveryNotFound(NotFound):
    code, message = "webhook_delivery_not_found", "No such delivery for this endpoint."


class UnknownEvent(Invalid):
    code, message = "unknown_event", "An event type is not in the catalogue (GET /api/v1/webhooks/events)."


class InvalidEndpointUrl(Invalid):
    code, message = "invalid_endpoint_url", "The endpoint URL must be an absolute http(s) URL without credentials."


class EndpointDisabled(Conflict):
    code, message = "webhook_endpoint_disabled", "The endpoint is disabled; enable it first."
