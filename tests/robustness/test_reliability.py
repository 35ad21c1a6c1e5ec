"""docs/errors.md's reliability table is the census of the collected hostile cases.

Every hostile-input and fault test item (``@pytest.mark.hostile``, in any test file) is one
case; its class is the marker's argument; a case marked ``xfail`` is not clean. When a case is
added or removed, ``python -m tests.hostile`` prints the table to paste into docs/errors.md.
"""

import re
from pathlib import Path

from tests.hostile import format_table, table_rows, take_census

ERRORS_MD = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def documented_rows():
    """``[(label, cases, clean)]`` of the table under the reliability heading."""
    text = ERRORS_MD.read_text()
    section = text[text.index("## Reliability"):]
    rows = re.findall(r"^\| ([^|]+?) \| (\d+) \| (\d+) \|$", section, re.MULTILINE)
    return [(label, int(cases), int(clean)) for label, cases, clean in rows]


def test_reliability_table_matches_the_collected_cases():
    measured = table_rows(take_census())
    assert documented_rows() == measured, (
        "docs/errors.md's reliability table is out of date; replace it by:\n"
        + format_table(measured))
