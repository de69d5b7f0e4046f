from daodian.kit.errors import Conflict, Forbidden, Invalid, NotFound


class SlotNotFound(NotFound):
    code, message = "slot_not_found", "No such time slot."


class BookingNotFound(NotFound):
    code, message = "booking_not_found", "No such booking."


class SlotFull(Conflict):
    code, message = "slot_full", "This time slot is fully booked; pick another one."


class SlotClosed(Conflict):
    code, message = "slot_closed", "The store withdrew this time slot."


class SlotStarted(Conflict):
    code, message = "slot_started", "This time slot has already started."


class SlotNotStarted(Conflict):
    code = "slot_not_started"
    message = "Too early: attendance counts from an hour before the start, a no-show only after the start."


class SlotExists(Conflict):
    code, message = "slot_exists", "This store already offers this item at that start time."


class CapacityBelowBooked(Conflict):
    code, message = "capacity_below_booked", "More places are booked than the new capacity; cancel bookings first."


class CancellationWindowPassed(Conflict):
    code = "cancellation_window_passed"
    message = "Free cancellation has ended for this booking; ask the store to cancel it."


class BookingNotActive(Conflict):
    code, message = "booking_not_active", "This booking is no longer active (cancelled, attended or no-show)."


class TooManyNoShows(Forbidden):
    code = "too_many_no_shows"
    message = "Too many missed bookings recently; book with a voucher or pay online instead."


class ItemNotOfferedAtStore(Invalid):
    code, message = "item_not_offered_at_store", "This store does not offer this service item."


class VoucherNotForSlot(Invalid):
    code, message = "voucher_not_for_slot", "This voucher is for another service item or merchant."


class VoucherAlreadyBooked(Conflict):
    code, message = "voucher_already_booked", "This voucher already backs another booking; cancel that one first."
