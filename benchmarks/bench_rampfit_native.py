"""The ramp fit: NumPy reference path against the compiled kernel, in the same run.

Two inputs, both full-frame 16-read SPARS25:

- ``benchmark``: the synthetic ramps of ``bench_jump_rampfit.py`` (counts, scalar gain and
  read noise, a C-contiguous cube) with their jumps;
- ``step``: what the ramp_fit step hands to ``fit_ramps``: the ramp in count rates (UNITCORR
  done, read 0 holding the zeroth-read signal) with ``read_scale``, per-pixel gain and read
  noise maps, the pixel DQ, and the science area (a 1014 x 1014 view of the 1024 x 1024
  cube, not contiguous).

Each round runs ``fit_ramps`` once with ``HSTRAMP_KERNELS=numpy`` and once with ``native``,
in one process, alternating; the table gives the median wall and CPU times and their
ratios, and checks that both paths give the same outputs (NaN at the same places, every
other value bit for bit).

Usage::

    python setup.py build_ext --inplace        # the compiled kernels
    python benchmarks/bench_rampfit_native.py --repeat 7 --output rampfit_native.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from _measure import cpu_seconds, format_table, load_average, machine, ratio, write_report
from bench_jump_rampfit import GAIN, READ_NOISE, SPARS, make_exposure

from hstramp.core import native
from hstramp.core.jump import detect_jumps
from hstramp.core.ramp_fit import RampFitParameters, fit_ramps
from hstramp.core.units import count_scale

FIELDS = ("rate", "err", "var_poisson", "var_rnoise", "dq", "samp", "time")


def inputs(side: int = 1024, seed: int = 2024) -> dict[str, tuple[tuple, dict]]:
    """The arguments of ``fit_ramps`` for each case."""
    data, groupdq = make_exposure(16, side, SPARS, seed)
    jumped = detect_jumps(data, groupdq, SPARS, GAIN, READ_NOISE)
    rng = np.random.default_rng(seed)
    rates = data.copy()
    rates[1:] /= SPARS[1:, None, None].astype(np.float32)
    rates[0] = rng.uniform(0.0, 30.0, data.shape[1:])  # the zeroth-read signal (ZSIGCORR)
    gain = rng.uniform(2.3, 2.6, data.shape[1:]).astype(np.float32)
    noise = rng.uniform(5.0, 7.0, data.shape[1:]).astype(np.float32)
    pixeldq = np.zeros(data.shape[1:], np.uint16)
    pixeldq[rng.random(pixeldq.shape) < 0.01] = 16  # hot
    science = (slice(5, -5), slice(5, -5))
    cube = (slice(None), *science)
    return {
        "benchmark": ((data, jumped, SPARS, GAIN, READ_NOISE), {}),
        "step": ((rates[cube], jumped[cube], SPARS, gain[science], noise[science],
                  RampFitParameters(), pixeldq[science]),
                 {"read_scale": count_scale(SPARS, in_rates=True)}),
    }


def run(kernels: str, args: tuple, kwargs: dict):
    """One fit with ``HSTRAMP_KERNELS=kernels``: (wall s, CPU s, result)."""
    os.environ[native.ENV_VAR] = kernels
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = fit_ramps(*args, **kwargs)
    return time.perf_counter() - wall, cpu_seconds() - cpu, result


def identical(first, second) -> bool:
    """Same outputs: NaN at the same places, every other value bit for bit."""
    for name in FIELDS:
        a, b = (np.array(getattr(r, name)) for r in (first, second))
        if a.dtype.kind == "f":
            a[np.isnan(a)] = np.nan
            b[np.isnan(b)] = np.nan
        if a.shape != b.shape or not np.array_equal(a.view(np.uint8), b.view(np.uint8)):
            return False
    return True


def benchmark(repeat: int, side: int) -> list[dict]:
    rows = []
    for case, (args, kwargs) in inputs(side).items():
        runs = {"numpy": [], "native": []}
        same = True
        for _ in range(repeat):
            results = {}
            for kernels in runs:
                wall, cpu, results[kernels] = run(kernels, args, kwargs)
                runs[kernels].append({"seconds": wall, "cpu_seconds": cpu})
            same = same and identical(results["numpy"], results["native"])
        row = {"case": case, "identical": "yes" if same else "NO", "runs": runs,
               "load": load_average()}
        for kernels, measured in runs.items():
            for key in ("seconds", "cpu_seconds"):
                row[f"{kernels}_{key}"] = statistics.median(run[key] for run in measured)
        row["speedup"] = ratio(row["numpy_seconds"], row["native_seconds"])
        row["cpu_speedup"] = ratio(row["numpy_cpu_seconds"], row["native_cpu_seconds"])
        rows.append(row)
        print(format_table([row], COLUMNS).splitlines()[-1], flush=True)
    return rows


COLUMNS = [
    ("case", "case", "<10"), ("numpy_seconds", "numpy s", ">8.3f"),
    ("native_seconds", "native s", ">8.3f"), ("speedup", "ratio", ">6.2f"),
    ("numpy_cpu_seconds", "numpy cpu", ">9.3f"), ("native_cpu_seconds", "native cpu", ">10.3f"),
    ("cpu_speedup", "cpu ratio", ">9.2f"), ("identical", "identical", ">9"),
]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds (medians)")
    parser.add_argument("--side", type=int, default=1024, help="frame side (default 1024)")
    parser.add_argument("--output", default="bench_rampfit_native.json", help="JSON results")
    args = parser.parse_args(argv)
    if not native.built()["rampfit"]:
        parser.error("the compiled ramp fit is not built (python setup.py build_ext --inplace)")
    print(format_table([], COLUMNS))
    rows = benchmark(args.repeat, args.side)
    print()
    print(format_table(rows, COLUMNS))
    write_report(args.output, {"machine": machine(), "rows": rows})


if __name__ == "__main__":
    main()
