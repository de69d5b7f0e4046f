import re

import pytest

from daodian.kit import codes

SAMPLES = [codes.new_code() for _ in range(200)]


def test_codes_have_80_random_bits_a_check_symbol_and_no_ambiguous_letters():
    for code in SAMPLES:
        assert len(code) == 17 and codes.RANDOM_SYMBOLS * 5 >= 80
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{17}", code), code  # no I, L, O, U
        assert codes.is_valid(code)
    assert len(set(SAMPLES)) == len(SAMPLES)


def test_every_single_wrong_symbol_is_caught():
    for code in SAMPLES:
        for i, original in enumerate(code):
            for symbol in codes.ALPHABET:
                if symbol != original:
                    assert not codes.is_valid(code[:i] + symbol + code[i + 1:]), (code, i, symbol)


def test_every_adjacent_transposition_is_caught():
    for code in SAMPLES:
        for i in range(len(code) - 1):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
                assert not codes.is_valid(swapped), (code, i)


def test_the_check_catches_all_transpositions_exhaustively_for_every_symbol_pair():
    # Beyond samples: for every pair (a, b) at every position of one body, swapping is caught.
    body = SAMPLES[0][:-1]
    for i in range(len(body) - 1):
        for a in codes.ALPHABET:
            for b in codes.ALPHABET:
                if a != b:
                    text = body[:i] + a + b + body[i + 2:]
                    code = text + codes.check_symbol(text)
                    assert not codes.is_valid(text[:i] + b + a + text[i + 2:] + code[-1])


def test_typed_and_scanned_forms_normalise():
    code = SAMPLES[1]
    grouped = codes.display(code)
    assert grouped.count("-") == 3 and grouped.replace("-", "") == code
    assert codes.normalize(f"  {grouped.lower()} ") == code
    assert codes.normalize(" ".join(code)) == code
    with_o = code.replace("0", "O")
    assert codes.normalize(with_o) == code  # O is read as zero, the Crockford way


@pytest.mark.parametrize("junk", ["", "ABC", "x" * 17, "ÄÖÜ" * 6, "0" * 40, "\x00" * 17])
def test_junk_is_not_a_code(junk):
    assert codes.normalize(junk) is None
