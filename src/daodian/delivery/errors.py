from daodian.kit.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests


class DeliveryNotFound(NotFound):
    code, message = "delivery_not_found", "No such delivery."


class CourierNotFound(NotFound):
    code, message = "courier_not_found", "No such courier."


class NotACourier(Forbidden):
    code, message = "not_a_courier", "This account is not registered as a courier."


class AlreadyCourier(Conflict):
    code, message = "already_courier", "This account is a courier already."


class CourierOffline(Conflict):
    code, message = "courier_offline", "Go online before taking deliveries."


class WrongDeliveryState(Conflict):
    code, message = "wrong_delivery_state", "The delivery is not in a state that allows this."


class AlreadyTaken(Conflict):
    code, message = "delivery_taken", "Another courier has this delivery."


class NotReadyYet(Conflict):
    code, message = "not_ready_yet", "The store has not got this order ready yet."


class WrongHandoverCode(Conflict):
    code, message = "wrong_handover_code", "That is not the consumer's handover code."


class NoDeliveryLocation(Invalid):
    code, message = "delivery_location_missing", "Delivery by courier needs the door's location with its datum."


class NoStoreToDeliverFrom(Conflict):
    code, message = "no_store_to_deliver_from", "The merchant has no open store to deliver from."


class HandoverLocked(TooManyRequests):
    code, message = ("handover_locked", "Too many wrong handover codes for this delivery: the consumer or the "
                     "store asks for a fresh code.")


class CourierRoleMismatch(Conflict):
    code, message = ("courier_role_mismatch", "Visits go to service providers and deliveries to couriers; this "
                     "courier cannot take this one.")
