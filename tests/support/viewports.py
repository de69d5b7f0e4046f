"""The three screen sizes every browser story runs at (issue 17): a phone, a tablet, a desktop. One definition,
used by every browser test; parametrize a per-size story with `@pytest.mark.parametrize("size", SIZES)`."""

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
DESKTOP = {"width": 1440, "height": 900}

SIZES = {"phone": PHONE, "tablet": TABLET, "desktop": DESKTOP}


def touch(size: str) -> bool:
    """Phones and tablets are touch screens; the desktop has a mouse."""
    return size != "desktop"
