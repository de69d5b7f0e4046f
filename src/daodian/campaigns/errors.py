"""Campaign errors: an audience too small to target, or withheld by the differencing guard."""

from daodian.kit.errors import Conflict


class AudienceTooSmall(Conflict):
    code, message = "audience_too_small", "This segment is too small to be targeted without identifying people."


class AudienceWithheld(Conflict):
    code, message = ("audience_withheld", "This segment differs from a larger one by too few people: its size, "
                     "and a campaign to it, would single them out.")
