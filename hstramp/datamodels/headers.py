"""Edits of the header cards a model carries over into its products (``meta.headers``).

Keywords with a schema entry are metadata (set ``model.meta``; the writers put them in the
headers). What is left here are the input's own cards that a step must change because the
data moved under them, such as the reference pixel of a trimmed image.
"""

from __future__ import annotations

__all__ = ["shift_sci_keywords", "shift_to_science_area"]


def shift_sci_keywords(model, shifts):
    """Add offsets to numeric cards of the SCI header the products are built from.

    Parameters
    ----------
    model : HstrampModel
        Its ``meta.headers.sci`` cards are replaced (a new list; card order and comments kept).
    shifts : dict
        Keyword -> offset (e.g. ``{"CRPIX1": -5, "LTV1": -5}``). Cards that are absent, or
        whose value is undefined, are left as they are.
    """
    cards = model.meta.headers.instance.get("sci") or []
    model.meta.headers.sci = [
        [key, value + shifts[key] if key in shifts and value is not None else value, comment]
        for key, value, comment in cards
    ]


def shift_to_science_area(model, trim):
    """Shift LTV and CRPIX by the trimmed border, as calwf3 (flt) and calstis (BLEV) do.

    Parameters
    ----------
    model : HstrampModel
        Its ``meta.subarray.ltv1/ltv2`` and the LTV/CRPIX cards of ``meta.headers.sci`` are
        updated.
    trim : tuple of int
        ``(x1, x2, y1, y2)``: columns and rows removed at the start and end of each axis; only
        the leading ``x1`` and ``y1`` move the origin.
    """
    x1, _x2, y1, _y2 = trim
    model.meta.subarray.ltv1 = (model.meta.subarray.ltv1 or 0.0) - x1
    model.meta.subarray.ltv2 = (model.meta.subarray.ltv2 or 0.0) - y1
    shift_sci_keywords(model, {"CRPIX1": -x1, "CRPIX2": -y1, "LTV1": -x1, "LTV2": -y1})
