"""Money is an integer number of fen (分, 1/100 CNY). Never floats."""

from typing import Annotated

from pydantic import Field

from daodian.kit.schemas import JsonNumber

MAX_FEN = 100_000_000_00  # 100 million yuan: far above any single price, well inside int64

# JSON-exact: in a body `false` or "100" is not an amount (see kit.schemas). Bounds before the validator,
# so the JSON Schema states them wherever the type is used, not only inside an InputModel.
Fen = Annotated[int, Field(ge=0, le=MAX_FEN, description="Amount in fen (1/100 CNY), an integer."), JsonNumber]
# A catalog price starts at 1 fen: every order goes through a payment (the order state machine has no
# zero-pay path, and discounts leave the same 1-fen minimum charge, coupons.pricing.most_off), so a
# free item would make an order that can never be paid.
Price = Annotated[int, Field(ge=1, le=MAX_FEN, description="Price in fen (1/100 CNY), an integer of at least 1 fen."),
                  JsonNumber]


def format_yuan(fen: int) -> str:
    """Render fen as yuan for people, e.g. 12990 -> '129.90'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"
