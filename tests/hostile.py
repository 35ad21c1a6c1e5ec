"""The census of hostile-input and fault cases behind docs/errors.md's reliability table.

A hostile case is a collected test item marked ``@pytest.mark.hostile`` (or
``@pytest.mark.hostile("<class>")``, on the test, its module or one ``pytest.param``). Its
class is the marker's argument, one of :data:`CLASSES` (no argument: "not classified"). A
case also marked ``xfail`` is not handled cleanly yet.

This module is a pytest plugin: ``pytest --collect-only -q -m hostile -p tests.hostile tests``
with ``HSTRAMP_HOSTILE_CENSUS=<file>`` writes ``{nodeid: [class, clean]}`` to that file.
``python -m tests.hostile`` prints the table for docs/errors.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest

#: marker argument -> row label of the table, in the issue's order
CLASSES = {
    "traceback": "bare Python tracebacks",
    "unclear": "unclear messages",
    "silent": "silent wrong results",
    "security": "security (files outside the output/input directories, foreign code)",
    "data-loss": "data loss",
    "leftover": "leftovers and orphaned processes",
    "hang": "hangs and runaway resources",
}
UNCLASSIFIED = "not classified"
ENVIRONMENT = "HSTRAMP_HOSTILE_CENSUS"
ROOT = Path(__file__).resolve().parents[1]


def hostile_params(names, default, kinds=None):
    """``pytest.param(name, id=name)`` for each case name, marked hostile with its class.

    Parameters
    ----------
    names : iterable of str
        The case names of a table.
    default : str
        The class of a case ``kinds`` does not name.
    kinds : dict, optional
        ``{case name: class}`` for the exceptions.
    """
    kinds = kinds or {}
    unknown = set(kinds) - set(names)
    if unknown:
        raise ValueError(f"classes given for cases that do not exist: {sorted(unknown)}")
    return [pytest.param(name, id=name, marks=pytest.mark.hostile(kinds.get(name, default)))
            for name in names]


def case_class(item):
    """The class of one collected item, :data:`UNCLASSIFIED` without a marker argument."""
    marker = item.get_closest_marker("hostile")
    kind = (marker.args[0] if marker.args else marker.kwargs.get("kind")) if marker else None
    if kind is not None and kind not in CLASSES:
        raise ValueError(f"{item.nodeid}: hostile class {kind!r} is not one of {list(CLASSES)}")
    return kind or UNCLASSIFIED


def pytest_collection_finish(session):
    """Write the census of the collected hostile items (plugin hook)."""
    target = os.environ.get(ENVIRONMENT)
    if not target:
        return
    census = {item.nodeid: [case_class(item), item.get_closest_marker("xfail") is None]
              for item in session.items if item.get_closest_marker("hostile")}
    Path(target).write_text(json.dumps(census, indent=1))


def take_census():
    """Collect the whole suite in a subprocess; return ``{nodeid: (class, clean)}``."""
    with tempfile.TemporaryDirectory() as directory:
        target = Path(directory) / "census.json"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "hostile",
             "-p", "no:cacheprovider", "-p", "tests.hostile", "tests"],
            cwd=ROOT, env={**os.environ, ENVIRONMENT: str(target)},
            capture_output=True, text=True, check=False)
        if done.returncode != 0 or not target.exists():
            raise RuntimeError(f"collecting the suite failed:\n{done.stdout[-3000:]}"
                               f"{done.stderr[-3000:]}")
        return {nodeid: tuple(value) for nodeid, value in json.loads(target.read_text()).items()}


def table_rows(census):
    """``[(label, cases, clean)]`` per class (classes without cases included), then total."""
    cases = Counter(kind for kind, _clean in census.values())
    clean = Counter(kind for kind, ok in census.values() if ok)
    rows = [(label, cases[kind], clean[kind]) for kind, label in CLASSES.items()]
    if cases[UNCLASSIFIED]:
        rows.append((UNCLASSIFIED, cases[UNCLASSIFIED], clean[UNCLASSIFIED]))
    rows.append(("total", sum(cases.values()), sum(clean.values())))
    return rows


def format_table(rows):
    """The Markdown table of :func:`table_rows`."""
    lines = ["| class | cases | clean |", "|---|---|---|"]
    lines += [f"| {label} | {cases} | {clean} |" for label, cases, clean in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_table(table_rows(take_census())))
