"""Byte comparison of FITS products that were written at different times."""

import re
from pathlib import Path

_DATE_CARD = re.compile(rb"DATE    = '\d{4}-\d\d-\d\d'")
_CHECKSUM_CARD = re.compile(rb"CHECKSUM= '[^']{16}'")
_CHECKSUM_TIME = re.compile(rb"checksum updated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def masked_bytes(path):
    """File bytes with the write date masked (the only thing allowed to differ), and the
    CHECKSUM cards (they sum the date and carry the time they were written)."""
    data = _DATE_CARD.sub(b"DATE    = 'masked----'", Path(path).read_bytes())
    data = _CHECKSUM_TIME.sub(b"checksum updated " + b"-" * 19, data)
    return _CHECKSUM_CARD.sub(b"CHECKSUM= '" + b"-" * 16 + b"'", data)
