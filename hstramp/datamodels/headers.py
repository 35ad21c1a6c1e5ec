"""Edits of the header cards a model carries over into its products (``meta.headers``).

Keywords with a schema entry are metadata (set ``model.meta``; the writers put them in the
headers). What is left here are the input's own cards that a step must change because the
data moved under them, such as the reference pixel of a trimmed image.
"""

from __future__ import annotations

__all__ = ["shift_sci_keywords"]


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
