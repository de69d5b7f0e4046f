"""Photos are judged by their content, never by a file name or a Content-Type: Pillow must recognise one of
the accepted formats, the pixel count is checked from the header before any pixel is decoded (a small file
can claim a huge image), and what is kept is a fresh JPEG encoding of the pixels only: no EXIF, no GPS
position, no comments, no embedded profiles or trailing bytes of the upload."""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from daodian.media.errors import ImageFormatUnsupported, ImageInvalid, ImageTooLarge, ImageTooManyPixels

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
CONTENT_TYPE = "image/jpeg"
QUALITY = 85
THUMB_QUALITY = 80


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int
    max_side: int
    thumb_side: int


@dataclass(frozen=True)
class Encoded:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Processed:
    full: Encoded
    thumb: Encoded


def _jpeg(image: Image.Image, quality: int) -> Encoded:
    out = io.BytesIO()
    # Saved without exif=/icc_profile=/comment=: Pillow writes none of the source's metadata then.
    image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return Encoded(out.getvalue(), image.width, image.height)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency, and palette or 16-bit images must become 8-bit RGB."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def process(data: bytes, limits: Limits) -> Processed:
    """The upload re-encoded (oriented, scaled to `max_side`, metadata dropped) and its thumbnail."""
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(details={"max_bytes": limits.max_bytes, "bytes": len(data)})
    with warnings.catch_warnings():
        # Pillow only warns between its own limit and twice it; every such image is refused here anyway.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS | {"GIF", "BMP", "TIFF"})) as image:
                if image.format not in ACCEPTED_FORMATS:
                    raise ImageFormatUnsupported(details={"format": image.format})
                width, height = image.size
                if width * height > limits.max_pixels:
                    raise ImageTooManyPixels(details={"max_pixels": limits.max_pixels, "width": width,
                                                      "height": height})
                image.load()
                upright = ImageOps.exif_transpose(image)  # the pixels as the camera meant them; EXIF dropped below
                rgb = _flatten(upright)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageTooManyPixels(details={"max_pixels": limits.max_pixels}) from None
        except UnidentifiedImageError:
            raise ImageInvalid() from None
        except (OSError, SyntaxError, ValueError, EOFError) as error:  # truncated or corrupt pixel data
            raise ImageInvalid(details={"reason": type(error).__name__}) from None
    rgb.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    full = _jpeg(rgb, QUALITY)
    rgb.thumbnail((limits.thumb_side, limits.thumb_side), Image.Resampling.LANCZOS)
    return Processed(full, _jpeg(rgb, THUMB_QUALITY))

