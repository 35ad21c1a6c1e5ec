"""``hstramp demo``: simulate a WFC3/IR exposure with its references and calibrate it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from hstramp.cli.pipeline_args import add_pipeline_arguments, pipeline_parameters


def add_arguments(parser):
    """The subcommand's description and arguments."""
    parser.description = (
        "Simulate a WFC3/IR MultiAccum exposure with a complete reference-file set, run "
        "WFC3IRPipeline on it, and compare the flt with the true rates.")
    parser.add_argument("--out", default="hstramp_demo", help="output directory [hstramp_demo]")
    parser.add_argument("--size", type=int, default=1014,
                        help="science pixels a side: 64, 128, 256, 512 or 1014 [1014]")
    parser.add_argument("--nsamp", type=int, default=16, help="reads, 2..16 [16]")
    parser.add_argument("--samp-seq", default="SPARS25", help="sample sequence [SPARS25]")
    parser.add_argument("--seed", type=int, default=2026, help="random seed [2026]")
    parser.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    add_pipeline_arguments(parser)


def run(args):
    """Simulate, calibrate, report."""
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline
    from hstramp.simulate import simulate_exposure

    out = Path(args.out)
    start = time.perf_counter()
    sim = simulate_exposure(out / "inputs", size=args.size, samp_seq=args.samp_seq,
                            nsamp=args.nsamp, seed=args.seed)
    simulated = time.perf_counter() - start
    os.environ["iref"] = str(sim.iref)
    pipeline = WFC3IRPipeline(**{**pipeline_parameters(args), "output_dir": str(out),
                                 "overwrite": True})
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
        plot_image(image.data, png, title=f"{sim.rootname}_flt  ({image.meta.bunit_data})")
        print(f" png: {png}")
    return 0


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
        MAD), ``sky_true`` and ``sky_measured`` medians in e-/s.
    """
    from astropy.io import fits

    with fits.open(truth_path) as truth:
        rate = truth["RATE_E"].data.astype(np.float64)
    border = (rate.shape[0] - image.data.shape[0]) // 2
    if border:
        rate = rate[border:-border, border:-border]
    clean = (image.dq == 0) & (image.err > 0)
    z = (image.data[clean] - rate[clean]) / image.err[clean]
    median = float(np.median(z))
    return {"n": int(clean.sum()), "median": median,
            "std": float(1.4826 * np.median(np.abs(z - median))),
            "sky_true": float(np.median(rate)), "sky_measured": float(np.median(image.data))}


def format_truth_comparison(image, truth_path):
    """One paragraph saying how well the flt recovers the true rates."""
    c = truth_comparison(image, truth_path)
    return (f"\nrecovered rate vs truth on {c['n']} clean pixels: (rate - truth)/err has "
            f"median {c['median']:+.3f} and robust std {c['std']:.3f} (ideal 0 and 1)\n"
            f"median rate {c['sky_measured']:.4f} e-/s, true {c['sky_true']:.4f} e-/s")


def plot_image(data, path, title=""):
    """Save a PNG of an image with an asinh stretch between robust limits."""
    from hstramp.cli._common import new_figure

    finite = data[np.isfinite(data)]
    if finite.size:
        sky = np.median(finite)
        noise = 1.4826 * np.median(np.abs(finite - sky))
        low, high = sky - 3 * noise, sky + 40 * max(noise, 1e-6)
    else:
        low, high = 0.0, 1.0
    stretched = np.clip((data - low) / max(high - low, 1e-6), 0, None)
    scaled = np.arcsinh(stretched * 10) / np.arcsinh(10)
    fig, ax = new_figure(figsize=(6, 6))
    ax.imshow(scaled, origin="lower", cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
