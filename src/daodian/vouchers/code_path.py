"""Voucher codes in URL paths: the `voucher_code` path convertor.

`/vouchers/{code:voucher_code}` takes only what could be a code (kit.codes: 17 symbols, any case, O/I/L
read as 0/1, single spaces or hyphens between symbols), so a literal segment beside it such as
`/vouchers/verify` is never taken for a code by the methods that route lacks (an OPTIONS or GET there
is 405 with `Allow: POST`, not a voucher lookup). Registered once, on import, before any route uses it.
"""

from starlette.convertors import Convertor, register_url_convertor

from daodian.kit import codes

_SYMBOL = "[0-9A-TV-Za-tv-z]"  # the alphabet as typed: every letter but U, either case
CODE_PATTERN = f"{_SYMBOL}(?:[ -]?{_SYMBOL}){{{codes.LENGTH - 1}}}"
CONVERTOR = "voucher_code"


class VoucherCodeConvertor(Convertor[str]):
    regex = CODE_PATTERN

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor(CONVERTOR, VoucherCodeConvertor())
