"""Figures every hstramp view shares: Agg figures, robust ranges, stretched images, DQ maps.

Matplotlib's object API on an Agg canvas (no pyplot state), so the command-line tools, the
HTML report and the tutorials draw the same way from any thread or process. Every image has
a colour bar whose label states the quantity, the unit and the stretch; every range is set by
robust percentiles, never by one extreme value.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULT_PERCENTILES",
    "dq_map",
    "figure_png",
    "new_figure",
    "robust_limits",
    "robust_sigma",
    "save_png",
    "show_image",
    "sky_curve",
    "stretch_limits",
]

#: the percentiles of the finite pixels that set an image's colour range
DEFAULT_PERCENTILES = (0.5, 99.9)

#: colours of the DQ flags in a map, by rank of the flags present (tab10, then tab20)
_FLAG_COLOURS = ("tab:red", "tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown",
                 "tab:pink", "tab:olive", "tab:cyan", "gold", "navy", "lime", "maroon", "teal",
                 "salmon", "black")


def new_figure(nrows=1, ncols=1, *, figsize, **subplot_kwargs):
    """A figure on an Agg canvas and its axes (``figure.savefig(path)`` writes the PNG).

    Parameters
    ----------
    nrows, ncols : int
        Grid of axes.
    figsize : tuple of float
        Inches.
    **subplot_kwargs
        Passed to ``Figure.subplots`` (``sharex``, ``squeeze`` ...).

    Returns
    -------
    tuple
        ``(figure, axes)``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure, figure.subplots(nrows, ncols, **subplot_kwargs)


def robust_limits(values, *, pad=0.08):
    """Axis limits spanning the finite ``values`` with a margin of ``pad`` of the range.

    Parameters
    ----------
    values : array_like
        The values that must be visible (callers leave out those that must not set the
        scale, such as the zeroth read of a rate ramp).
    pad : float, optional
        Margin on each side as a fraction of the range.

    Returns
    -------
    tuple of float
        ``(low, high)`` with ``high > low``; ``(0, 1)`` when nothing is finite.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    span = high - low
    if span <= 0:
        span = max(abs(high), 1.0) * 0.1
    return low - pad * span, high + pad * span


def stretch_limits(data, percentiles=DEFAULT_PERCENTILES, mask=None):
    """Colour range of an image: two percentiles of its finite (unmasked) pixels.

    Parameters
    ----------
    data : array_like
        The image.
    percentiles : tuple of float, optional
        Low and high percentiles.
    mask : array_like of bool, optional
        True where a pixel must not count (flagged pixels).

    Returns
    -------
    tuple of float
        ``(vmin, vmax)`` with ``vmax > vmin``.
    """
    data = np.asarray(data, dtype=np.float64)
    good = np.isfinite(data) if mask is None else np.isfinite(data) & ~np.asarray(mask, bool)
    if not good.any():
        return 0.0, 1.0
    low, high = np.percentile(data[good], percentiles)
    if not high > low:
        high = low + max(abs(low), 1.0) * 1e-3
    return float(low), float(high)


def robust_sigma(data, mask=None):
    """Standard deviation from the median absolute deviation of the finite (unmasked) pixels.

    Parameters
    ----------
    data : array_like
    mask : array_like of bool, optional
        True where a pixel must not count.

    Returns
    -------
    float
        0 when no pixel counts.
    """
    data = np.asarray(data, dtype=np.float64)
    good = np.isfinite(data) if mask is None else np.isfinite(data) & ~np.asarray(mask, bool)
    if not good.any():
        return 0.0
    values = data[good]
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def _asinh_norm(vmin, vmax, softening):
    """A colour norm ``asinh((x - vmin) / softening)`` between ``vmin`` and ``vmax``."""
    from matplotlib.colors import FuncNorm

    def forward(x):
        return np.arcsinh((np.asarray(x, dtype=np.float64) - vmin) / softening)

    def inverse(y):
        return vmin + softening * np.sinh(y)

    return FuncNorm((forward, inverse), vmin=vmin, vmax=vmax, clip=True)


def show_image(ax, data, *, quantity, unit, stretch="asinh", percentiles=DEFAULT_PERCENTILES,
               mask=None, cmap="gray", colorbar=True):
    """Draw an image with a colour bar labelled with the quantity, unit and stretch.

    The colour range is ``percentiles`` of the finite pixels (``mask`` left out). With the
    asinh stretch the scale is linear over a few times the sky noise (robust standard
    deviation) above ``vmin`` and logarithmic beyond, so the sky noise and the cores of stars
    both keep their structure.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    data : array_like [ny, nx]
    quantity, unit : str
        What the pixels are (``"rate"``) and their unit (``"e-/s"``).
    stretch : {"asinh", "linear"}, optional
    percentiles : tuple of float, optional
        Low and high percentiles setting the colour range.
    mask : array_like of bool, optional
        Pixels left out of the range (flagged ones).
    cmap : str, optional
    colorbar : bool, optional
        Draw the colour bar.

    Returns
    -------
    tuple
        ``(AxesImage, Colorbar or None)``.
    """
    from matplotlib.colors import Normalize

    if stretch not in ("asinh", "linear"):
        raise ValueError(f"stretch must be 'asinh' or 'linear', not {stretch!r}")
    vmin, vmax = stretch_limits(data, percentiles, mask)
    if stretch == "asinh":
        softening = max(3.0 * robust_sigma(data, mask), 1e-4 * (vmax - vmin))
        norm = _asinh_norm(vmin, vmax, softening)
    else:
        norm = Normalize(vmin=vmin, vmax=vmax, clip=True)
    image = ax.imshow(np.asarray(data, dtype=np.float32), origin="lower", cmap=cmap, norm=norm,
                      interpolation="nearest")
    ax.set_xlabel("x (pixel)")
    ax.set_ylabel("y (pixel)")
    bar = None
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
        if stretch == "asinh":  # ticks evenly spaced in the stretched scale, 2 digits
            bar.set_ticks(sorted({float(f"{value:.2g}") for value in
                                  norm.inverse(np.linspace(0.0, 1.0, 7))}))
        low, high = percentiles
        bar.set_label(f"{quantity} ({unit}); {stretch} stretch, {low:g}-{high:g} percentile")
    return image, bar


def dq_map(ax, dq, *, flags=None, title=None):
    """Map of the pixels carrying each DQ flag, with a legend of flag names and counts.

    Each flagged pixel takes the colour of its highest set flag; good pixels are white.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    dq : array_like of int [ny, nx]
    flags : dict, optional
        Name -> bit value of the detector's flags (default WFC3/IR,
        :data:`hstramp.datamodels.dqflags.IR_FLAGS`).
    title : str, optional

    Returns
    -------
    dict
        Flag name -> number of pixels carrying it, for the flags present.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from hstramp.datamodels.dqflags import IR_FLAGS

    flags = IR_FLAGS if flags is None else flags
    dq = np.asarray(dq).astype(np.int64)
    present = [(name, bit) for name, bit in sorted(flags.items(), key=lambda item: item[1])
               if bit and np.any(dq & bit)]
    counts = {name: int(np.count_nonzero(dq & bit)) for name, bit in present}
    rank = np.zeros(dq.shape, np.int16)
    for index, (_name, bit) in enumerate(present, start=1):
        rank[(dq & bit) != 0] = index  # the highest flag wins
    colours = ["white"] + [_FLAG_COLOURS[i % len(_FLAG_COLOURS)] for i in range(len(present))]
    ax.imshow(rank, origin="lower", cmap=ListedColormap(colours), vmin=-0.5,
              vmax=len(present) + 0.5, interpolation="nearest")
    ax.set_xlabel("x (pixel)")
    ax.set_ylabel("y (pixel)")
    handles = [Patch(facecolor=colours[i], edgecolor="k", label=f"{name} ({bit}): {counts[name]}")
               for i, (name, bit) in enumerate(present, start=1)]
    if handles:
        ax.legend(handles=handles, fontsize="x-small", loc="upper left",
                  bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, title="DQ flag: pixels",
                  title_fontsize="x-small")
    else:
        ax.text(0.5, 0.5, "no flagged pixel", transform=ax.transAxes, ha="center")
    if title:
        ax.set_title(title, fontsize="medium")
    return counts


def sky_curve(ax, result, unit, *, legend=True):
    """The sky of every read against the constant-rate line, with the TVB threshold band.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    result : hstramp.core.tvb.TVBDetection
    unit : str
        The count unit of the sky (COUNTS, ELECTRONS).
    legend : bool, optional
    """
    elapsed = result.times - result.times[0]
    accumulated = result.sky - result.sky[0]
    ax.plot(result.times, accumulated, "o-", color="k", ms=4, label="sky of each read")
    if np.isfinite(result.sky_rate):
        line = result.sky_rate * elapsed
        band = result.threshold * result.sky_rate * elapsed[-1]
        ax.plot(result.times, line, color="tab:blue", label="constant rate (mean)")
        ax.fill_between(result.times, line - band, line + band, color="tab:blue", alpha=0.15,
                        label=f"TVB threshold (+-{result.threshold:g} of the exposure sky)")
    flagged = result.affected_reads
    if flagged.any():
        ax.plot(result.times[flagged], accumulated[flagged], "o", color="tab:red", ms=7,
                mfc="none", label="extra background")
    ax.set_xlabel("time since the zeroth read (s)")
    ax.set_ylabel(f"sky since the zeroth read ({unit})")
    if legend:
        ax.legend(fontsize="small")


def figure_png(figure, *, dpi=100, colors=None):
    """The figure as PNG bytes.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    dpi : float, optional
    colors : int, optional
        Reduce to a palette of this many colours (much smaller files for documentation).

    Returns
    -------
    bytes
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    if colors is None:
        return buffer.getvalue()
    from PIL import Image

    buffer.seek(0)
    with Image.open(buffer) as picture:
        small = picture.convert("RGB").quantize(colors=colors, dither=Image.Dither.NONE)
        out = io.BytesIO()
        small.save(out, format="png", optimize=True)
    return out.getvalue()


def save_png(figure, path, *, dpi=100, colors=None):
    """Write the figure as a PNG (:func:`figure_png`) and return its path.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    path : str or Path
    dpi : float, optional
    colors : int, optional
        Palette size for a small file.

    Returns
    -------
    Path
    """
    path = Path(path)
    path.write_bytes(figure_png(figure, dpi=dpi, colors=colors))
    return path
