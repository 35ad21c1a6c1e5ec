"""Rebuild the tutorials' figures by running every page's commands.

    python docs/tutorials/build.py [--quick] [--page NAME ...] [--shared DIR] [--keep DIR]

Each page's ```python blocks run in order in one namespace, in a scratch copy of the project
layout: the current directory is a scratch "project root" whose ``../shared`` is the real
shared data directory, so the paths in the pages (``../shared/data/wfc3ir/...``,
``docs/tutorials/figures/...``, ``tutorial_work/...``) are what a reader types from the
project root. The build fails (exit status 1) if a block raises or if a figure a page shows
(``![...](figures/NAME.png)``) was not made.

Without ``--quick`` the figures are copied into ``docs/tutorials/figures/`` and their total
size is checked against :data:`FIGURE_BUDGET`. With ``--quick`` every command still runs (so
a page that went stale fails), but nothing in the repository changes and the figures stay in
the scratch directory (``--keep DIR`` keeps it).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]

#: the tutorial pages, in reading order
PAGES = ("xray.md", "time_variable_background.md", "flatten_ramp.md", "stis_ccd.md",
         "jumps_and_ramp_fitting.md")

#: total size of the committed figures, bytes
FIGURE_BUDGET = 600_000

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_FIGURE = re.compile(r"!\[[^\]]*\]\(figures/([^)]+\.png)\)")


def page_blocks(text):
    """The page's python blocks, in order."""
    return [match.group(1) for match in _BLOCK.finditer(text)]


def page_figures(text):
    """The figure files the page shows."""
    return _FIGURE.findall(text)


def run_page(page, scratch):
    """Run every python block of ``page`` with ``scratch`` as the current directory.

    Returns
    -------
    list of str
        What went wrong (empty when the page ran and made every figure it shows).
    """
    text = page.read_text()
    namespace = {"__name__": "__tutorial__"}
    problems = []
    previous = Path.cwd()
    os.chdir(scratch)
    try:
        for number, block in enumerate(page_blocks(text), start=1):
            try:
                exec(compile(block, f"{page.name}, block {number}", "exec"), namespace)
            except Exception:
                problems.append(f"{page.name}, block {number} failed:\n{traceback.format_exc()}")
                break
    finally:
        os.chdir(previous)
    figures = scratch / "docs" / "tutorials" / "figures"
    for name in page_figures(text):
        if not problems and not (figures / name).is_file():
            problems.append(f"{page.name} shows figures/{name}, which its commands did not make")
    return problems


def scratch_project(root, shared):
    """A scratch project root inside ``root`` with ``../shared`` pointing at ``shared``."""
    project = root / "project"
    (project / "docs" / "tutorials" / "figures").mkdir(parents=True)
    (root / "shared").symlink_to(shared.resolve(), target_is_directory=True)
    return project


def build(pages, *, quick, shared, keep=None):
    """Run ``pages``; copy their figures into the repository unless ``quick``.

    Returns
    -------
    list of str
        Problems found (empty on success).
    """
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="hstramp_tutorials_"))
    root.mkdir(parents=True, exist_ok=True)
    project = scratch_project(root, shared)
    problems = []
    try:
        for name in pages:
            start = time.perf_counter()
            found = run_page(HERE / name, project)
            print(f"{name}: {'FAILED' if found else 'ok'} ({time.perf_counter() - start:.1f} s)")
            problems += found
        made = sorted((project / "docs" / "tutorials" / "figures").glob("*.png"))
        if not quick and not problems:
            for figure in made:
                shutil.copy(figure, HERE / "figures" / figure.name)
            total = sum(path.stat().st_size for path in (HERE / "figures").glob("*.png"))
            print(f"{len(made)} figures copied to {HERE / 'figures'} ({total / 1e3:.0f} kB in all)")
            if total > FIGURE_BUDGET:
                problems.append(f"the figures take {total} bytes, over {FIGURE_BUDGET}")
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return problems


def main(argv=None):
    """Command line: build the pages; exit status 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="run every command but leave the repository's figures alone")
    parser.add_argument("--page", action="append", choices=PAGES,
                        help="build only this page (repeatable)")
    parser.add_argument("--shared", type=Path, default=PROJECT.parent / "shared",
                        help="the shared data directory [../shared of the project]")
    parser.add_argument("--keep", type=Path, help="keep the scratch directory here")
    args = parser.parse_args(argv)
    if not (args.shared / "data" / "wfc3ir").is_dir():
        print(f"no real data in {args.shared / 'data' / 'wfc3ir'} (give --shared)",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    problems = build(args.page or PAGES, quick=args.quick, shared=args.shared, keep=args.keep)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
