"""``hstramp tvb FILE...``: detect a time-variable background in raw or ima exposures.

For each exposure: the sky of every read (clipped median of a region, DQ masked), the sky rate
of every read-to-read interval, the detection metric (the largest departure of the accumulated
sky from a constant rate, as a fraction of the exposure's sky) against its threshold, and the
reads whose interval carries extra background. A table per exposure, a PNG
``<file name>_tvb.png`` per exposure (``ibxy01aoq_raw_tvb.png``) and a one-line verdict per
exposure at the end.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hstramp.cli._common import add_sky_arguments, load_ramp, plot_path, sky_parameters
from hstramp.core.tvb import (
    SKY_STATISTICS,
    DetectionParameters,
    SkyParameters,
    TVBDetection,
    detect_tvb,
    science_region,
    sky_levels,
)
from hstramp.plots import new_figure, robust_limits, save_png, sky_curve

__all__ = ["add_arguments", "file_detection", "format_table", "plot_detection", "run"]


def add_arguments(parser):
    """The subcommand's description and arguments."""
    defaults = DetectionParameters()
    parser.description = (
        "Measure how far the sky of each exposure departs from a constant rate and which "
        "reads carry extra background; a table per file, a PNG <file name>_tvb.png per file "
        "(ibxy01aoq_raw_tvb.png) and a verdict per file.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="_raw or _ima files")
    parser.add_argument("--statistic", choices=SKY_STATISTICS, default=SkyParameters().statistic,
                        help="per-read statistic taken as the sky (default "
                             f"{SkyParameters().statistic})")
    parser.add_argument("--threshold", type=float, default=defaults.threshold,
                        help="metric above which the exposure is affected "
                             f"(default {defaults.threshold})")
    parser.add_argument("--read-threshold", type=float, default=defaults.read_threshold,
                        help="excess of an interval's sky over the quiet sky, as a fraction "
                             f"of the mean sky, for a read to be affected "
                             f"(default {defaults.read_threshold})")
    parser.add_argument("--nsigma", type=float, default=defaults.nsigma,
                        help=f"... and in standard errors (default {defaults.nsigma})")
    add_sky_arguments(parser)


def file_detection(path, *, sky=None, detection=None):
    """Detect a time-variable background in a raw or ima file.

    Parameters
    ----------
    path : str or Path
        A WFC3/IR ``_raw.fits`` or ``_ima.fits``.
    sky : SkyParameters, optional
        Region (default the science area), statistic, clipping, DQ mask.
    detection : DetectionParameters, optional
        Thresholds.

    Returns
    -------
    tuple
        ``(ExposureRamp, SkyLevels, TVBDetection)``.
    """
    sky = sky or SkyParameters()
    ramp = load_ramp(path)
    if sky.region is None:
        sky = dataclasses.replace(sky, region=science_region(ramp.data.shape))
    levels = sky_levels(ramp.data, ramp.times, dq=ramp.dq, params=sky)
    result = detect_tvb(ramp.times, levels.sky, levels.noise, detection or DetectionParameters(),
                        offset=ramp.offset_noise)
    return ramp, levels, result


def decision(result: TVBDetection):
    """``TVB DETECTED``, ``no TVB`` or why nothing could be measured."""
    if not np.isfinite(result.metric):
        return "no positive sky: not measurable"
    return "TVB DETECTED" if result.affected else "no TVB"


def verdict(result: TVBDetection):
    """One line: metric, threshold, decision, and which reads carry extra background.

    Without a detection the accumulated sky stays close to a constant rate; intervals whose
    rate is still above the quietest one are then named as a variation too small to bend
    the ramp, never as "extra background".
    """
    reads = ",".join(str(k) for k in result.affected_read_indices)
    head = (f"metric {result.metric:.4f} ({result.significance:.1f} sigma; threshold "
            f"{result.threshold:g}): {decision(result)}")
    if not np.isfinite(result.metric):
        return head
    if result.affected:
        return head + (f"; reads with extra background: {reads}" if reads
                       else "; no single interval stands out (a slow drift)")
    within = (f"; the sky stays within {100 * result.metric:.1f} % of a constant rate"
              if result.metric <= result.threshold else
              f"; the {100 * result.metric:.1f} % departure is within the noise")
    if reads:
        within += (f" (interval rates above the quietest at reads {reads}, too little to "
                   "bend the ramp)")
    return head + within


def format_table(result: TVBDetection, unit):
    """The per-read detection table as text lines.

    Parameters
    ----------
    result : TVBDetection
    unit : str
        The count unit (COUNTS or ELECTRONS), for the footer.

    Returns
    -------
    list of str
    """
    lines = [f"{'read':>4} {'time(s)':>10} {'sky':>12} {'interval rate':>14} {'+-':>9} "
             f"{'excess':>8} {'deviation':>10}  affected"]
    for k in range(result.times.size):
        lines.append(
            f"{k:>4d} {result.times[k]:>10.3f} {result.sky[k]:>12.5g} "
            f"{result.interval_rate[k]:>14.5g} {result.interval_error[k]:>9.3g} "
            f"{result.excess[k]:>8.3f} {result.deviation[k]:>10.4f}  "
            f"{'yes' if result.affected_reads[k] else ''}")
    lines.append(f"(sky: {unit} since the zeroth read; interval rate: {unit}/S; excess over the "
                 f"quiet rate {result.quiet_rate:.4g} and deviation from the constant rate "
                 f"{result.sky_rate:.4g}, as fractions of the mean)")
    return lines


def plot_detection(result: TVBDetection, png=None, *, title, unit):
    """The per-read sky curve against the constant rate with the TVB threshold band, the
    interval sky rates, and the departure from a constant rate against the threshold.

    Parameters
    ----------
    result : TVBDetection
    png : str or Path, optional
        Output file (matplotlib's Agg canvas; pyplot is not used).
    title, unit : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure, (curve, rates, bottom) = new_figure(3, 1, figsize=(7, 8.4), sharex=True)
    flagged = result.affected_reads
    sky_curve(curve, result, unit)
    curve.set_xlabel("")
    curve.set_title(title, fontsize="medium")
    middle = np.concatenate([[np.nan], 0.5 * (result.times[1:] + result.times[:-1])])
    quiet = result.measurable & ~flagged
    rates.errorbar(middle[quiet], result.interval_rate[quiet],
                   yerr=result.interval_error[quiet], fmt="o", color="k", label="interval sky")
    if flagged.any():
        rates.errorbar(middle[flagged], result.interval_rate[flagged],
                       yerr=result.interval_error[flagged], fmt="o", color="tab:red",
                       label="extra background")
    rates.axhline(result.sky_rate, color="tab:blue", label="constant rate (mean)")
    if np.isfinite(result.quiet_rate):
        rates.axhline(result.quiet_rate, color="tab:green", linestyle="--", label="quiet sky")
    if quiet.any() or flagged.any():
        shown = result.interval_rate[quiet | flagged]
        rates.set_ylim(*robust_limits(np.concatenate([shown, [result.sky_rate]])))
    rates.set_ylabel(f"interval sky rate ({unit}/S)")
    rates.legend(fontsize="small", title="intervals too short to measure are not shown",
                 title_fontsize="x-small")
    bottom.plot(result.times, result.deviation, marker="o", color="k", label="departure")
    bottom.axhline(result.threshold, color="tab:red", linestyle=":",
                   label=f"threshold +-{result.threshold:g}")
    bottom.axhline(-result.threshold, color="tab:red", linestyle=":")
    bottom.set_ylabel("departure / exposure sky")
    bottom.set_xlabel("time since the zeroth read (s)")
    bottom.legend(fontsize="small")
    figure.tight_layout()
    if png is not None:
        save_png(figure, png, dpi=90)
    return figure


def run(args):
    """Print the table of every file, write its PNG, then one verdict per file; return 0."""
    sky = dataclasses.replace(sky_parameters(args), statistic=args.statistic)
    detection = DetectionParameters(threshold=args.threshold, read_threshold=args.read_threshold,
                                    nsigma=args.nsigma)
    verdicts = []
    for path in args.files:
        ramp, _levels, result = file_detection(path, sky=sky, detection=detection)
        print(f"{ramp.path.name}:")
        for line in format_table(result, ramp.unit):
            print("  " + line)
        print("  " + verdict(result))
        if not args.no_plot:
            png = plot_path(args.plot_dir, ramp.path, "tvb")
            png.parent.mkdir(parents=True, exist_ok=True)
            plot_detection(result, png, unit=ramp.unit,
                           title=f"{ramp.path.name}: metric {result.metric:.3f} "
                                 f"({decision(result)})")
            print(f"  png: {png}")
        verdicts.append(f"{ramp.path.name:<24} {verdict(result)}")
    print("\nsummary")
    for line in verdicts:
        print("  " + line)
    return 0
