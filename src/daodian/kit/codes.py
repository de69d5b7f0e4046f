"""Voucher codes: 16 random symbols (80 bits) plus one check symbol, from a non-ambiguous alphabet.

The alphabet is Crockford's base32 (digits and letters without I, L, O, U), so a code survives
being read aloud, typed on a POS keypad or scanned. Input is forgiving the way Crockford intends:
case is ignored, spaces and hyphens are dropped, O reads as 0 and I/L as 1.

The check symbol is a Damm check over the quasigroup x * y = a·x + y in GF(32) (a = the field's
generator): such a quasigroup is totally anti-symmetric, so the check catches every single wrong
symbol and every swap of two adjacent symbols (tests/orders/test_codes.py tries them all). A typo
is answered as "no such voucher" without touching the database.
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_SYMBOLS = 16  # 16 x 5 bits = 80 bits: guessing one live code is hopeless
LENGTH = RANDOM_SYMBOLS + 1
_VALUE = {symbol: i for i, symbol in enumerate(ALPHABET)}
_VALUE.update({"O": 0, "I": 1, "L": 1})

_POLY = 0b100101  # x^5 + x^2 + 1, primitive over GF(2)
_A = 2  # the generator x: neither 0 nor 1, which total anti-symmetry needs


def _gf_mul(x: int, y: int) -> int:
    product = 0
    while y:
        if y & 1:
            product ^= x
        y >>= 1
        x <<= 1
        if x & 0b100000:
            x ^= _POLY
    return product


# op[x][y] = a·x + y (addition in GF(2^5) is XOR)
_OP = [[_gf_mul(_A, x) ^ y for y in range(32)] for x in range(32)]


def _interim(values: list[int]) -> int:
    state = 0
    for v in values:
        state = _OP[state][v]
    return state


def check_symbol(body: str) -> str:
    """The symbol that brings the Damm state of `body` back to zero."""
    state = _interim([_VALUE[c] for c in body])
    return ALPHABET[_gf_mul(_A, state)]  # a·state + c = 0  <=>  c = a·state (characteristic 2)


def new_code() -> str:
    # One random byte per symbol, its low 5 bits: uniform over the 32 symbols, and a flash sale's
    # thousands of codes a second cost one system call each instead of sixteen.
    body = "".join(ALPHABET[byte & 31] for byte in secrets.token_bytes(RANDOM_SYMBOLS))
    return body + check_symbol(body)


def normalize(raw: str) -> str | None:
    """The canonical form of a typed or scanned code, or None if it cannot be one of ours."""
    text = raw.strip().upper().replace("-", "").replace(" ", "")
    if len(text) != LENGTH or any(c not in _VALUE for c in text):
        return None
    canonical = "".join(ALPHABET[_VALUE[c]] for c in text)
    return canonical if is_valid(canonical) else None


def is_valid(code: str) -> bool:
    return len(code) == LENGTH and all(c in _VALUE for c in code) and _interim([_VALUE[c] for c in code]) == 0


def display(code: str) -> str:
    """Grouped for people in fours, e.g. 7K3M-Q9TD-HW4P-RC2N8 (the last group ends with the check symbol)."""
    return f"{code[0:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}"
