from daodian.kit.errors import Conflict, NotAuthenticated, TooManyRequests


class InvalidCredentials(NotAuthenticated):
    code, message = "invalid_credentials", "Phone number or password is wrong."


class PhoneTaken(Conflict):
    code, message = "phone_taken", "An account with this phone number already exists."


class LoginThrottled(TooManyRequests):
    code, message = "login_throttled", "Too many wrong passwords; wait 15 minutes and try again."
