"""The apps domain's errors: an HTTP status and a stable code each."""

from daodian.kit.errors import Conflict, DomainError, Forbidden, Invalid, NotFound


class AppNotFound(NotFound):
    code, message = "app_not_found", "No such app."


class InstallationNotFound(NotFound):
    code, message = "installation_not_found", "The app is not installed at this merchant."


class AlreadyInstalled(Conflict):
    code, message = "app_already_installed", "The app is already installed at this merchant."


class AppDisabled(Forbidden):
    code, message = "app_disabled", "This app has been disabled."


class InvalidAppSettings(Invalid):
    code, message = "invalid_app_settings", "Some of the app's settings are invalid."


class OriginNotAllowed(DomainError):
    status, code, message = 403, "origin_not_allowed", "This page's origin is not registered for the app."


class RateLimited(DomainError):
    status, code, message = 429, "rate_limited", "Too many requests from this app; wait and try again."

    def __init__(self, headers: dict[str, str]):
        super().__init__(details={"retry_after_seconds": int(headers["Retry-After"])})
        self.headers = headers
