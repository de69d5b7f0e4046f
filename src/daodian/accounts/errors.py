from daodian.kit.errors import Conflict, NotAuthenticated, TooManyRequests


class InvalidCredentials(NotAuthenticated):
    code, message = "invalid_credentials", "Phone number or password is wrong."


class PhoneTaken(Conflict):
    code, message = "phone_taken", "An account with this phone number already exists."


class LoginThrottled(TooManyRequests):
    """A stable code for clients, and how long to wait (the Retry-After header, and `details`)."""

    code, message = "too_many_attempts", "Too many wrong passwords; wait a moment and try again."

    def __init__(self, *, retry_after: int):
        super().__init__(f"Too many wrong passwords; try again in {retry_after} seconds.",
                         details={"retry_after_seconds": retry_after})
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
