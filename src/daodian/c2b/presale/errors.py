"""Pre-sale errors, each with its HTTP status and stable code."""

from daodian.kit.errors import Conflict, Invalid, NotFound


class PresaleNotFound(NotFound):
    code, message = "presale_not_found", "No such pre-sale."


class CandidateNotFound(NotFound):
    code, message = "presale_candidate_not_found", "This pre-sale has no such candidate."


class PresaleInvalid(Invalid):
    code, message = "invalid_presale", "This pre-sale does not add up."


class PresaleNotOpen(Conflict):
    code, message = "presale_not_open", "This pre-sale is not taking votes."


class AlreadyVoted(Conflict):
    code, message = "presale_already_voted", "You already voted for this candidate."


class PresaleNotDue(Conflict):
    code, message = "presale_not_due", "This pre-sale closes later; it cannot be closed yet."
