"""Domain errors carry an HTTP status and a stable machine-readable code.

Clients always get `{"error": {"code": ..., "message": ..., "details": ...}}`, never a stack trace.
"""

from typing import Any

from pydantic import BaseModel, Field


class DomainError(Exception):
    status: int = 400
    code: str = "bad_request"
    message: str = "The request cannot be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None, details: Any = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.details = details

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


class NotAuthenticated(DomainError):
    status, code, message = 401, "not_authenticated", "Log in first."


class Forbidden(DomainError):
    status, code, message = 403, "forbidden", "You are not allowed to do this."


class NotFound(DomainError):
    status, code, message = 404, "not_found", "Not found."


class Conflict(DomainError):
    status, code, message = 409, "conflict", "This conflicts with the current state."


class Invalid(DomainError):
    status, code, message = 422, "validation_error", "Some fields are invalid."


class TooManyRequests(DomainError):
    status, code, message = 429, "too_many_requests", "Too many attempts; wait and try again."


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable machine-readable error code.")
    message: str = Field(description="What went wrong, for a person.")
    details: Any = Field(None, description="Extra structured information, e.g. per-field problems.")


class ErrorEnvelope(BaseModel):
    error: ErrorInfo


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


# Every API route documents these, so clients (and schemathesis) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in {
        400: "Bad request",
        401: "Not authenticated",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        409: "Conflict",
        413: "Payload too large",
        422: "Invalid input",
        429: "Too many requests",
        503: "Database busy; retry",
    }.items()
}
