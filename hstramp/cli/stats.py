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

from hstramp.cli._common import add_sky_arguments, load_ramp, plot_path, sky_parameters
from hstramp.core.tvb import (
    STATISTICS,
    ReadStatistics,
    SkyParameters,
    read_statistics,
    science_region,
)
from hstramp.plots import new_figure, save_png

__all__ = ["add_arguments", "file_statistics", "run"]


def add_arguments(parser):
    """The subcommand's description and arguments."""
    parser.description = ("Per-read midpt, mean, median, mode, stddev, min and max of a region "
                          "of every read of WFC3/IR raw or ima files, with the read times; one "
                          "table per file and a PNG <file name>_stats.png "
                          "(ibxy01aoq_raw_stats.png).")
    parser.add_argument("files", nargs="+", metavar="IMA_OR_RAW", help="_ima or _raw files")
    parser.add_argument("--units", choices=("counts", "rate"), default="counts",
                        help="counts, or counts per second of each read's time")
    parser.add_argument("--as-stored", action="store_true",
                        help="use the stored values (pstat): no zeroth-read subtraction")
    add_sky_arguments(parser)


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
