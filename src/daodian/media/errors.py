"""What can go wrong with a photo, each with its HTTP status and stable code."""

from daodian.kit.errors import Conflict, DomainError, Invalid, NotFound


class ImageInvalid(Invalid):
    code = "image_invalid"
    message = "This file is not a readable image."


class ImageFormatUnsupported(DomainError):
    status, code, message = 415, "image_format_unsupported", "Send a JPEG, PNG or WebP image."


class ImageTooLarge(DomainError):
    status, code, message = 413, "image_too_large", "This image is too large."


class ImageTooManyPixels(DomainError):
    status, code, message = 413, "image_too_many_pixels", "This image has too many pixels."


class TooManyPhotos(Conflict):
    code = "too_many_photos"
    message = "This already has as many photos as it may have."


class PhotoOwnerNotFound(NotFound):
    code = "photo_owner_not_found"
    message = "There is nothing of this kind with this id to attach a photo to."


class PhotoNotFound(NotFound):
    code = "photo_not_found"
    message = "No such photo."
