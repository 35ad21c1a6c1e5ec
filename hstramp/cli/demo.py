"""``hstramp demo``: simulate a WFC3/IR exposure with its references and calibrate it."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from hstramp.cli.arguments import integer_in, output_directory
from hstramp.cli.pipeline_args import add_pipeline_arguments, pipeline_parameters


def _size(text):
    """argparse type of --size: a size the simulator makes (its own check, its message)."""
    from hstramp.simulate.timing import subtype_for_size

    size = integer_in(1)(text)
    try:
        subtype_for_size(size)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return size


def _samp_seq(text):
    from hstramp.simulate.timing import SAMP_SEQS

    if text.strip().upper() not in SAMP_SEQS:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(SAMP_SEQS)}")
    return text.strip().upper()


def add_arguments(parser):
    """The subcommand's description and arguments."""
    from hstramp.simulate.timing import MAX_NSAMP

    parser.description = (
        "Simulate a WFC3/IR MultiAccum exposure with a complete reference-file set, run "
        "WFC3IRPipeline on it, and compare the flt with the true rates.")
    parser.add_argument("--out", default="hstramp_demo", type=output_directory,
                        help="output directory [hstramp_demo]")
    parser.add_argument("--size", type=_size, default=1014,
                        help="science pixels a side: 64, 128, 256, 512 or 1014 [1014]")
    parser.add_argument("--nsamp", type=integer_in(2, MAX_NSAMP), default=16,
                        help=f"reads, 2..{MAX_NSAMP} [16]")
    parser.add_argument("--samp-seq", default="SPARS25", type=_samp_seq,
                        help="sample sequence [SPARS25]")
    parser.add_argument("--seed", type=int, default=2026, help="random seed [2026]")
    parser.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    add_pipeline_arguments(parser)


def run(args):
    """Simulate, calibrate, report."""
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline
    from hstramp.simulate import simulate_exposure

    out = Path(args.out)
    # the parameters are checked before anything is simulated
    pipeline = WFC3IRPipeline(**{**pipeline_parameters(args), "output_dir": str(out),
                                 "overwrite": True})
    start = time.perf_counter()
    sim = simulate_exposure(out / "inputs", size=args.size, samp_seq=args.samp_seq,
                            nsamp=args.nsamp, seed=args.seed)
    simulated = time.perf_counter() - start
    os.environ["iref"] = str(sim.iref)
    start = time.perf_counter()
    image = pipeline.run(str(sim.raw_path))
    calibrated = time.perf_counter() - start

    print(f"\nsimulated {sim.raw_path.name}: {args.size}x{args.size} science pixels, "
          f"{args.nsamp} reads {args.samp_seq} ({simulated:.1f} s)")
    print(format_timings(pipeline.timings, calibrated))
    products = pipeline.product_paths(image)
    for suffix, path in products.items():
        print(f"{suffix:>4s}: {path}")
    print(format_truth_comparison(image, sim.truth_path))
    if not args.no_plot:
        png = out / f"{sim.rootname}_flt.png"
        plot_image(image.data, png, title=f"{sim.rootname}_flt", mask=image.dq != 0,
                   unit=_unit_label(image.meta.bunit_data))
        print(f" png: {png}")
    return 0


def _unit_label(bunit):
    """``e-/s`` for ELECTRONS/S, ``DN/s`` for COUNTS/S, else the BUNIT as written."""
    labels = {"ELECTRONS/S": "e-/s", "COUNTS/S": "DN/s", "ELECTRONS": "e-", "COUNTS": "DN"}
    return labels.get((bunit or "").upper(), bunit or "")


def format_timings(timings, total):
    """A table of per-step wall time and peak memory."""
    lines = [f"\n{'step':<14s}{'time (s)':>10s}{'peak (MB)':>11s}"]
    lines += [f"{name:<14s}{seconds:>10.3f}{peak:>11.0f}" for name, (seconds, peak) in
              timings.items()]
    lines.append(f"{'pipeline':<14s}{total:>10.3f}")
    return "\n".join(lines)


def truth_comparison(image, truth_path):
    """Compare the flt with the simulator's true rates on pixels the calibration left clean.

    Returns
    -------
    dict
        ``n`` clean pixels, ``median`` and ``std`` of (rate - truth)/err (robust std from the
        MAD), ``bias`` the median of (rate - truth) in e-/s over the clean pixels,
        ``sky_true`` and ``sky_measured`` the medians of the whole true and measured images
        in e-/s (they differ by the flagged pixels, stars among them, not by a bias).
    """
    from astropy.io import fits

    with fits.open(truth_path) as truth:
        rate = truth["RATE_E"].data.astype(np.float64)
    border = (rate.shape[0] - image.data.shape[0]) // 2
    if border:
        rate = rate[border:-border, border:-border]
    clean = (image.dq == 0) & (image.err > 0)
    difference = image.data[clean] - rate[clean]
    z = difference / image.err[clean]
    median = float(np.median(z))
    return {"n": int(clean.sum()), "median": median,
            "std": float(1.4826 * np.median(np.abs(z - median))),
            "bias": float(np.median(difference)),
            "sky_true": float(np.median(rate)), "sky_measured": float(np.median(image.data))}


def format_truth_comparison(image, truth_path):
    """One paragraph saying how well the flt recovers the true rates."""
    c = truth_comparison(image, truth_path)
    return (f"\nrecovered rate vs truth on {c['n']} clean pixels: (rate - truth)/err has "
            f"median {c['median']:+.3f} and robust std {c['std']:.3f} (ideal 0 and 1)\n"
            f"median of (rate - truth) on those pixels: {c['bias']:+.4f} e-/s "
            f"(true median rate of the scene {c['sky_true']:.4f} e-/s)")


def plot_image(data, path, title="", *, unit="e-/s", mask=None):
    """Save a PNG of an image: asinh stretch between robust percentiles, with a colour bar
    naming the unit and the stretch.

    Parameters
    ----------
    data : ndarray [ny, nx]
    path : str or Path
    title : str, optional
    unit : str, optional
        The pixels' unit, for the colour bar.
    mask : ndarray of bool, optional
        Flagged pixels, left out of the colour range.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from hstramp.plots import new_figure, save_png, show_image

    fig, ax = new_figure(figsize=(6.6, 5.6))
    show_image(ax, data, quantity="rate", unit=unit, mask=mask)
    ax.set_title(title, fontsize="medium")
    fig.tight_layout()
    save_png(fig, path, dpi=110)
    return fig
