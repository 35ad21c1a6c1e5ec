"""``hstramp stats FILE...``: per-read statistics of a region of a raw or ima (like ``pstat``).

For every read: midpt, mean, median, mode, stddev, min and max of the region's pixels (DQ
masked, sigma clipped), as counts or as rates, with the read times; a table on stdout and a
PNG per file (``<file name>_stats.png``: a raw and an ima of one exposure get one each). By
default the values are the signal accumulated since the zeroth read (for a raw file: the
zeroth read and the reference-pixel bias drift removed), so raw and ima files compare
directly; ``--as-stored`` gives the stored values, as wfc3tools ``pstat`` does.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hstramp.core.tvb import (
    STATISTICS,
    ReadStatistics,
    SkyParameters,
    read_statistics,
    reference_offset_noise,
    science_region,
    signal_since_zeroth_read,
)
from hstramp.datamodels.dqflags import SDQFLAGS_DEFAULT
from hstramp.errors import ParameterError
from hstramp.plots import new_figure, save_png

__all__ = ["ExposureRamp", "add_parser", "add_sky_arguments", "file_statistics", "load_ramp",
           "parse_region", "plot_path", "run", "sky_parameters"]

_REGION = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*,\s*(\d+)\s*:\s*(\d+)\s*$")


def parse_region(text):
    """Parse ``X1:X2,Y1:Y2`` (0-based, half-open columns then rows) into ``(x1, x2, y1, y2)``.

    Raises
    ------
    ParameterError
        If the text is not four integers in that form.
    """
    match = _REGION.match(text or "")
    if not match:
        raise ParameterError(f"--region must look like X1:X2,Y1:Y2 (0-based, half-open), "
                             f"got {text!r}")
    return tuple(int(v) for v in match.groups())


def _region_argument(text):
    """argparse type for ``--region``: the ParameterError message becomes argparse's."""
    import argparse

    try:
        return parse_region(text)
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_sky_arguments(parser):
    """Arguments shared by ``stats`` and ``tvb``: region, clipping, DQ mask."""
    parser.add_argument("--region", type=_region_argument, metavar="X1:X2,Y1:Y2",
                        help="0-based half-open columns and rows of the raw/ima array "
                             "(default: the science area, without the 5-pixel border)")
    parser.add_argument("--clip-sigma", type=float, default=3.0,
                        help="sigma clipping about the median (0: none; default 3)")
    parser.add_argument("--clip-iterations", type=int, default=5,
                        help="at most this many clipping passes (default 5)")
    parser.add_argument("--dq-mask", type=int, default=SDQFLAGS_DEFAULT,
                        help="DQ bits (in any read) that exclude a pixel (default 31743; "
                             "0: no masking)")
    parser.add_argument("--plot-dir", default=".",
                        help="directory for the PNGs (default: the current directory)")
    parser.add_argument("--no-plot", action="store_true", help="do not write PNGs")


def add_parser(subparsers):
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "stats", help="per-read statistics of a region of a raw or ima file (like pstat)",
        description="Per-read midpt, mean, median, mode, stddev, min and max of a region of "
                    "every read of WFC3/IR raw or ima files, with the read times; one table per "
                    "file and a PNG <file name>_stats.png (ibxy01aoq_raw_stats.png).")
    parser.add_argument("files", nargs="+", metavar="IMA_OR_RAW", help="_ima or _raw files")
    parser.add_argument("--units", choices=("counts", "rate"), default="counts",
                        help="counts, or counts per second of each read's time")
    parser.add_argument("--as-stored", action="store_true",
                        help="use the stored values (pstat): no zeroth-read subtraction")
    add_sky_arguments(parser)
    return parser


@dataclass(frozen=True, eq=False)
class ExposureRamp:
    """A MultiAccum file's reads, ready for statistics.

    Attributes
    ----------
    path : Path
    rootname : str
    data : ndarray float32 [ngroups, ny, nx]
        Counts since the zeroth read, or the stored values (``as_stored``).
    in_rates : bool
        True if ``data`` are rates (only with ``as_stored``).
    times : ndarray [ngroups]
    dq : ndarray uint16 [ngroups, ny, nx]
        Read DQ OR pixel DQ.
    unit : str
        The count unit (COUNTS or ELECTRONS).
    offset_noise : float
        Error of each read's level from the reference pixels, counts
        (:func:`hstramp.core.tvb.reference_offset_noise`).
    """

    path: Path
    rootname: str
    data: np.ndarray
    in_rates: bool
    times: np.ndarray
    dq: np.ndarray
    unit: str
    offset_noise: float = 0.0


def load_ramp(path, *, as_stored=False):
    """Read a raw or ima file and return its reads for statistics.

    Parameters
    ----------
    path : str or Path
    as_stored : bool, optional
        Keep the stored values instead of the signal since the zeroth read.

    Returns
    -------
    ExposureRamp
    """
    from hstramp.datamodels import read_multiaccum

    path = Path(path)
    model = read_multiaccum(path)
    bunit = (model.meta.bunit_data or "COUNTS").upper()
    in_rates = "/S" in bunit
    if as_stored:
        data = model.data
    else:
        data = signal_since_zeroth_read(
            model.data, model.times, in_rates=in_rates,
            zero_subtracted=model.meta.cal_step.zoffcorr == "COMPLETE")
        in_rates = False
    rootname = (model.meta.observation.rootname or path.name.split("_")[0]).lower()
    return ExposureRamp(path=path, rootname=rootname, data=data, in_rates=in_rates,
                        times=np.asarray(model.times), dq=model.groupdq | model.pixeldq,
                        unit=bunit.split("/")[0],
                        offset_noise=reference_offset_noise(model.data))


def sky_parameters(args):
    """SkyParameters from the shared arguments (region None: the science area)."""
    return SkyParameters(region=args.region,
                         clip_sigma=args.clip_sigma, clip_iterations=args.clip_iterations,
                         dq_mask=args.dq_mask)


def file_statistics(path, *, units="counts", region=None, as_stored=False, params=None):
    """Per-read statistics of a region of a raw or ima file.

    Parameters
    ----------
    path : str or Path
        A WFC3/IR ``_raw.fits`` or ``_ima.fits``.
    units : {"counts", "rate"}, optional
    region : tuple of 4 int, optional
        ``(x1, x2, y1, y2)`` 0-based half-open in the file's array; default the science area
        (overrides ``params.region``).
    as_stored : bool, optional
        Statistics of the stored values rather than of the signal since the zeroth read.
    params : SkyParameters, optional
        Clipping, DQ mask, histogram bin width (default :class:`SkyParameters()`).

    Returns
    -------
    tuple
        ``(ExposureRamp, ReadStatistics)``.
    """
    params = params or SkyParameters()
    ramp = load_ramp(path, as_stored=as_stored)
    region = region or params.region or science_region(ramp.data.shape)
    stats = read_statistics(ramp.data, ramp.times, in_rates=ramp.in_rates, units=units,
                            dq=ramp.dq, params=dataclasses.replace(params, region=region))
    return ramp, stats


def unit_label(unit, units):
    """``COUNTS`` or ``COUNTS/S`` (``ELECTRONS``...) for ``units`` "counts" or "rate"."""
    return f"{unit}/S" if units == "rate" else unit


def format_table(stats: ReadStatistics, unit):
    """The per-read table as text lines.

    Parameters
    ----------
    stats : ReadStatistics
    unit : str
        The count unit (COUNTS or ELECTRONS), for the footer.

    Returns
    -------
    list of str
        Header, one line per read, footer.
    """
    head = f"{'read':>4} {'time(s)':>10} {'npix':>7} " + " ".join(f"{n:>11}" for n in STATISTICS)
    lines = [head]
    for row in stats.rows():
        lines.append(f"{row['read']:>4d} {row['time']:>10.3f} {row['npix']:>7d} "
                     + " ".join(f"{row[n]:>11.5g}" for n in STATISTICS))
    lines.append(f"({unit_label(unit, stats.units)}; read 0 is the zeroth read)")
    return lines


def plot_path(plot_dir, path, kind):
    """``<plot_dir>/<file name without .fits>_<kind>.png``: a raw and an ima of one exposure
    (one rootname) get a PNG each.

    Parameters
    ----------
    plot_dir : str or Path
    path : str or Path
        The input file.
    kind : str
        ``stats`` or ``tvb``.

    Returns
    -------
    Path
    """
    name = Path(path).name
    for ending in (".fits.gz", ".fits"):
        if name.lower().endswith(ending):
            name = name[: -len(ending)]
            break
    return Path(plot_dir) / f"{name}_{kind}.png"


def plot_statistics(stats: ReadStatistics, png=None, *, title, ylabel):
    """Location statistics and standard deviation against read time, as a PNG.

    Parameters
    ----------
    stats : ReadStatistics
    png : str or Path, optional
        Output file (matplotlib's Agg canvas; pyplot is not used).
    title, ylabel : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure, (top, bottom) = new_figure(2, 1, figsize=(7, 6), sharex=True)
    for name, marker in (("midpt", "o"), ("mean", "s"), ("median", "+"), ("mode", "x")):
        top.plot(stats.times, getattr(stats, name), marker=marker, linestyle="-", label=name)
    top.set_ylabel(ylabel)
    top.legend(fontsize="small")
    top.set_title(title, fontsize="medium")
    bottom.plot(stats.times, stats.stddev, marker="o", color="k")
    bottom.set_ylabel(f"stddev ({ylabel})")
    bottom.set_xlabel("time since the zeroth read (s)")
    figure.tight_layout()
    if png is not None:
        save_png(figure, png, dpi=90)
    return figure


def run(args):
    """Print the table of every file and write its PNG; return the exit status (0)."""
    for path in args.files:
        ramp, stats = file_statistics(
            path, units=args.units, as_stored=args.as_stored,
            params=sky_parameters(args))
        region = args.region or science_region(ramp.data.shape)
        what = "stored values" if args.as_stored else "signal since the zeroth read"
        print(f"{ramp.path.name}: {what}, region x {region[0]}:{region[1]}, "
              f"y {region[2]}:{region[3]}")
        for line in format_table(stats, ramp.unit):
            print("  " + line)
        if not args.no_plot:
            png = plot_path(args.plot_dir, ramp.path, "stats")
            png.parent.mkdir(parents=True, exist_ok=True)
            plot_statistics(stats, png, title=f"{ramp.path.name} [{region[0]}:{region[1]},"
                            f"{region[2]}:{region[3]}] ({what})",
                            ylabel=unit_label(ramp.unit, stats.units))
            print(f"  png: {png}")
    return 0
