"""QR codes as SVG (segno: pure Python, no image libraries)."""

import io

import segno


def svg(text: str, *, scale: int = 6) -> str:
    """An SVG QR code for `text`; error correction M survives a scuffed phone screen."""
    qr = segno.make(text, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=scale, border=2, xmldecl=False, svgns=True, title=None)
    return buffer.getvalue().decode()
