"""Reference files that are not the real ones: how they are marked, and how products say so.

A reference file hstramp simulates for a real exposure (``hstramp refs --simulate``)
carries ``SIMULATD = T`` in its primary header (PEDIGREE stays ``MODEL``, so
:func:`hstramp.reference.is_dummy` never mistakes it for a DUMMY file). A step that uses
such a file marks the exposure: ``SIMREFS = T`` and a HISTORY card in the primary header
of every product, and one warning per run.
"""

from __future__ import annotations

import logging

from hstramp.reference.common import cached_by_file, primary_header

__all__ = ["PRODUCT_KEYWORD", "REFERENCE_KEYWORD", "is_simulated", "mark_simulated_use"]

log = logging.getLogger(__name__)

#: primary keyword of a simulated reference file
REFERENCE_KEYWORD = "SIMULATD"
#: primary keyword of a product calibrated with simulated reference files
PRODUCT_KEYWORD = "SIMREFS"
_HISTORY = ("calibrated with reference files simulated by hstramp, not the real CRDS "
            "files: the values are the simulator's")


@cached_by_file(maxsize=32)
def is_simulated(path, keyword: str | None = None) -> bool:
    """True if the reference file at ``path`` says it was simulated (``SIMULATD = T``).

    Parameters
    ----------
    path : str or Path
        The reference file.
    keyword : str, optional
        Its header keyword, named in the error if the file cannot be read.

    Each file version is read once (as :func:`hstramp.reference.is_dummy`).
    """
    return bool(primary_header(path, keyword).get(REFERENCE_KEYWORD, False))


def mark_simulated_use(model, path, keyword: str, run) -> None:
    """Record in ``model``'s primary header that a simulated reference was used.

    Adds ``SIMREFS = T`` and a HISTORY card (once) and logs one warning per exposure and
    ``run`` (the pipeline, or the step run alone).

    Parameters
    ----------
    model : HstrampModel
        The exposure being calibrated.
    path : str or Path
        The simulated reference file.
    keyword : str
        Its keyword (``DARKFILE``).
    run : object
        What is running (the pipeline or the step); it remembers that it warned.
    """
    cards = list(model.meta.headers.instance.get("primary") or [])
    if not any(card[0] == PRODUCT_KEYWORD for card in cards):
        cards += [[PRODUCT_KEYWORD, True, "calibrated with simulated reference files"],
                  ["HISTORY", _HISTORY, ""]]
        model.meta.headers.primary = cards
    warned = run.__dict__.setdefault("_warned_simulated_references", set())
    if model.meta.filename not in warned:
        warned.add(model.meta.filename)
        log.warning("%s: %s %s is a SIMULATED reference file, not the real one: the products "
                    "are marked %s = T and their values are not science-grade",
                    model.meta.filename, keyword, path, PRODUCT_KEYWORD)
