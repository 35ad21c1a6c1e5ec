"""Header edits that steps of either instrument make to a model (not a step module).

Steps never import one another: what two steps share lives here (header cards) or in
:mod:`hstramp.core` (arrays).
"""

from __future__ import annotations

__all__ = ["set_primary_cards", "shift_to_science_area"]


def set_primary_cards(model, cards):
    """Add or replace primary-header cards of a model's product.

    Parameters
    ----------
    model : HstrampModel
        Its ``meta.headers.primary`` (the cards the FITS writers start from) is updated.
    cards : list of tuple
        ``(keyword, value, comment)``; an existing card with the keyword is replaced in place.
    """
    current = [list(card) for card in (model.meta.headers.instance.get("primary") or [])]
    for keyword, value, comment in cards:
        for card in current:
            if card[0] == keyword:
                card[1], card[2] = value, comment
                break
        else:
            current.append([keyword, value, comment])
    model.meta.headers.primary = current


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
    shifts = {"CRPIX1": -x1, "CRPIX2": -y1, "LTV1": -x1, "LTV2": -y1}
    cards = model.meta.headers.instance.get("sci") or []
    model.meta.headers.sci = [
        [key, value + shifts[key] if key in shifts and value is not None else value, comment]
        for key, value, comment in cards
    ]
