"""The keyword tables of the header-comparison docs (docs/calwf3.md, docs/stis/headers.md)."""

import re
from pathlib import Path

_ROW = re.compile(r"^\| `([A-Z0-9_-]+)` \| ([^|]+) \|", re.M)


def documented_omissions(doc: Path, heading: str) -> dict[str, set[str]]:
    """``{"PRIMARY": {...}, "EXTENSION": {...}}``: the keywords listed in the table under the
    ``### <heading>`` section of ``doc`` (up to the next heading), by the headers its
    second column names ("primary", "extensions")."""
    table = doc.read_text().split(f"### {heading}", 1)[1].split("\n#", 1)[0]
    found = {"PRIMARY": set(), "EXTENSION": set()}
    for keyword, where in _ROW.findall(table):
        if "primary" in where:
            found["PRIMARY"].add(keyword)
        if "extensions" in where:
            found["EXTENSION"].add(keyword)
    return found
