"""Photos are judged by content and come back re-encoded: no EXIF or GPS, oriented, scaled, thumbnailed."""

import io

import pytest
from PIL import Image

from daodian.media import images
from daodian.media.errors import ImageFormatUnsupported, ImageInvalid, ImageTooLarge, ImageTooManyPixels
from tests.media.support import gif, has_gps, jpeg_with_gps, png

LIMITS = images.Limits(max_bytes=2_000_000, max_pixels=4_000_000, max_side=512, thumb_side=128)


def test_gps_exif_is_stripped_and_the_image_scaled_and_thumbnailed():
    upload = jpeg_with_gps(1024, 768)
    assert has_gps(upload)  # the test image really carries a position
    done = images.process(upload, LIMITS)
    assert not has_gps(done.full.data) and not has_gps(done.thumb.data)
    assert (done.full.width, done.full.height) == (512, 384)
    assert max(done.thumb.width, done.thumb.height) == 128
    with Image.open(io.BytesIO(done.full.data)) as again:
        assert again.format == "JPEG" and not again.getexif()


def test_the_orientation_is_applied_to_the_pixels():
    done = images.process(jpeg_with_gps(300, 100, orientation=6), LIMITS)  # 6: rotate 90° to view
    assert (done.full.width, done.full.height) == (100, 300)


def test_transparent_png_is_flattened_onto_white():
    done = images.process(png(), LIMITS)
    with Image.open(io.BytesIO(done.full.data)) as again:
        assert again.mode == "RGB" and again.size == (64, 48)


@pytest.mark.parametrize("data, error", [
    (b"GIF89a not really", ImageInvalid),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", ImageInvalid),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, ImageInvalid),  # a PNG signature with nothing behind it
    (jpeg_with_gps()[:400], ImageInvalid),  # truncated pixel data
])
def test_what_is_not_an_image_is_refused(data, error):
    with pytest.raises(error) as raised:
        images.process(data, LIMITS)
    assert raised.value.status == 422 and raised.value.code == "image_invalid"


def test_formats_outside_the_accepted_ones_are_refused_by_content():
    with pytest.raises(ImageFormatUnsupported) as raised:
        images.process(gif(), LIMITS)
    assert raised.value.status == 415


def test_too_many_bytes():
    with pytest.raises(ImageTooLarge):
        images.process(b"\xff" * (LIMITS.max_bytes + 1), LIMITS)


def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded():
    # A tiny file that claims 20000 x 20000 pixels: 1-bit PNG of one colour compresses to almost nothing.
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")
    assert len(out.getvalue()) < 200_000
    with pytest.raises(ImageTooManyPixels) as raised:
        images.process(out.getvalue(), LIMITS)
    assert raised.value.status == 413 and raised.value.code == "image_too_many_pixels"
