"""Party identifiers on trade reports: the Chinese USCC (GB 32100-2015) and the LEI (ISO 17442).

USCC (统一社会信用代码): 18 characters from the 31-character alphabet ``0-9 A-H J-N P-R T U W-Y``
(no I, O, S, V, Z); the last is a check character: c18 = 31 - (sum_i w_i * v(c_i) mod 31), with
weights w_i = 3^(i-1) mod 31 for i = 1..17 and 31 mapped to 0.

LEI: 20 upper-case alphanumerics; characters 19-20 are ISO 7064 MOD 97-10 check digits: with
letters as A=10 ... Z=35 the whole 20-character number is 1 modulo 97.
"""
from __future__ import annotations

import re

from ..errors import ReportError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
LEI_RE = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")


def uscc_check_char(first17: str) -> str:
    """Check character of a USCC given its first 17 characters."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: str, field: str = "uscc") -> str:
    """The code if it is a well-formed USCC with the right check character; ``ReportError`` otherwise."""
    if not isinstance(code, str) or len(code) != 18:
        raise ReportError(f"USCC must be 18 characters, got {code!r}", field=field)
    bad = sorted({ch for ch in code if ch not in USCC_ALPHABET})
    if bad:
        raise ReportError(
            f"USCC {code!r} contains {''.join(bad)!r}; allowed: digits and A-Z without I, O, S, V, Z", field=field
        )
    want = uscc_check_char(code[:17])
    if code[17] != want:
        raise ReportError(f"USCC {code!r} has check character {code[17]!r}, expected {want!r}", field=field)
    return code


def lei_check_digits(first18: str) -> str:
    """ISO 7064 MOD 97-10 check digits of an LEI given its first 18 characters."""
    number = int("".join(str(int(ch, 36)) for ch in first18 + "00"))
    return f"{98 - number % 97:02d}"


def validate_lei(code: str, field: str = "lei") -> str:
    """The code if it is a well-formed LEI with correct check digits; ``ReportError`` otherwise."""
    if not isinstance(code, str) or not LEI_RE.match(code):
        raise ReportError(f"LEI must be 18 upper-case letters/digits then 2 check digits, got {code!r}", field=field)
    if int("".join(str(int(ch, 36)) for ch in code)) % 97 != 1:
        raise ReportError(f"LEI {code!r} fails the ISO 17442 check digits (expected {lei_check_digits(code[:18])})", field=field)
    return code
