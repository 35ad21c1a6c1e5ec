"""The compiled calib kernel against the NumPy path: noise, zsig, nlin, dark, flat.

Runs the WFC3/IR pipeline once on a simulated full-frame 16-read SPARS25 exposure and keeps
the inputs that the five steps hand to their core functions (``zero_read_signal``,
``initial_error``, ``nonlinearity_correct``, ``dark_subtract`` with the dark frames already
read, ``flat_field`` on the ramp and on the flt image). Then it times each core call with
``HSTRAMP_KERNELS=numpy`` and ``native`` in the same process, alternating the order every
round, on fresh copies of the inputs written in place (``out=`` the inputs, as the steps
do), and reports the median of each and their ratio. The first round checks that both paths
give the same bits.

Usage::

    python benchmarks/bench_calib.py                   # 7 rounds -> bench_calib.json
    python benchmarks/bench_calib.py --repeat 11 --output results.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _measure import format_table, load_average, machine, simulated_exposure, write_report

DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "hstramp_bench"
#: step module -> the core function it calls, and the arrays the step passes as ``out``
CALLS = {
    "zsig": ("zero_read_signal", ("groupdq",)),
    "noise": ("initial_error", ("err",)),
    "nlin": ("nonlinearity_correct", ("data", "groupdq")),
    "dark": ("dark_subtract", ("data", "err", "groupdq")),
    "flat": ("flat_field", ("data", "err", "dq")),
}
#: positional parameters of each core function, to name the captured arguments
POSITIONAL = {
    "zsig": ("data", "groupdq", "zsci", "zerr", "node", "gain", "readnoise"),
    "noise": ("data", "err", "gain", "readnoise"),
    "nlin": ("data", "groupdq", "coeffs", "node", "nlin_dq"),
    "dark": ("data", "err", "groupdq", "dark", "dark_err", "dark_dq"),
    "flat": ("data", "err", "dq", "flat", "flat_err", "flat_dq"),
}


def _materialise(name: str, value):
    """A private copy of an argument; the dark's lazy sequences read into lists of frames."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if name in ("dark", "dark_err", "dark_dq") and value is not None:
        return [np.array(value[k]) for k in range(len(value))]
    return value


def capture(raw: Path, iref: Path) -> list[tuple[str, dict]]:
    """Run the pipeline (NumPy path) and keep each step's core call: ``(step, kwargs)``."""
    import importlib

    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    os.environ["iref"] = str(iref)
    os.environ["HSTRAMP_KERNELS"] = "numpy"
    calls = []
    originals = {}
    for step, (function, _out) in CALLS.items():
        module = importlib.import_module(f"hstramp.steps.{step}")
        original = getattr(module, function)
        originals[module] = (function, original)

        def spy(*args, _step=step, _original=original, **kwargs):
            named = dict(zip(POSITIONAL[_step], args, strict=False))
            named.update({k: v for k, v in kwargs.items() if k != "out"})
            calls.append((_step, {k: _materialise(k, v) for k, v in named.items()}))
            return _original(*args, **kwargs)

        setattr(module, function, spy)
    try:
        with tempfile.TemporaryDirectory(prefix="bench_calib_") as out:
            WFC3IRPipeline(output_dir=out, overwrite=True).run(str(raw))
    finally:
        for module, (function, original) in originals.items():
            setattr(module, function, original)
    return calls


def run_once(step: str, kwargs: dict, mode: str):
    """One core call under ``HSTRAMP_KERNELS=mode`` on fresh copies: (seconds, result)."""
    import importlib

    function_name, out_names = CALLS[step]
    function = getattr(importlib.import_module(f"hstramp.steps.{step}"), function_name)
    args = dict(kwargs)
    for name in out_names:
        args[name] = np.array(kwargs[name], dtype=np.float32 if name in ("data", "err")
                              else kwargs[name].dtype, order="C", copy=True)
    out = tuple(args[n] for n in out_names)
    os.environ["HSTRAMP_KERNELS"] = mode
    start = time.perf_counter()
    result = function(**args, out=out[0] if len(out) == 1 else out)
    return time.perf_counter() - start, result


def same_bits(a, b) -> bool:
    """Whether two results hold the same arrays, bit for bit (floats as bit patterns)."""
    for name in vars(a):
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        if x.dtype.kind == "f":
            x, y = x.view(f"u{x.dtype.itemsize}"), y.view(f"u{y.dtype.itemsize}")
        if x.shape != y.shape or not np.array_equal(x, y):
            return False
    return True


def label(step: str, kwargs: dict) -> str:
    return f"{step} (flt)" if step == "flat" and np.ndim(kwargs["data"]) == 2 else step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds (median) [7]")
    parser.add_argument("--workdir", default=str(DEFAULT_WORKDIR),
                        help="simulated inputs (kept and reused) [%(default)s]")
    parser.add_argument("--output", default="bench_calib.json", help="JSON [%(default)s]")
    args = parser.parse_args(argv)

    from hstramp.core import native

    info = machine()
    if not native.built()["calib"]:
        raise SystemExit("the calib kernel is not built (python setup.py build_ext --inplace)")
    raw, iref = simulated_exposure(args.workdir, size=1014, nsamp=16, samp_seq="SPARS25")
    print(f"exposure {raw}, load {load_average()}")
    calls = capture(raw, iref)
    names = [label(step, kwargs) for step, kwargs in calls]
    times = {name: {"numpy": [], "native": []} for name in names}
    identical = {}
    for round_ in range(args.repeat):
        order = ("numpy", "native") if round_ % 2 == 0 else ("native", "numpy")
        for (step, kwargs), name in zip(calls, names, strict=True):
            results = {}
            for mode in order:
                seconds, results[mode] = run_once(step, kwargs, mode)
                times[name][mode].append(seconds)
            if round_ == 0:
                identical[name] = same_bits(results["numpy"], results["native"])
            del results
    rows = []
    for name in names:
        numpy_s = statistics.median(times[name]["numpy"])
        native_s = statistics.median(times[name]["native"])
        rows.append({"call": name, "numpy": numpy_s, "native": native_s,
                     "speedup": numpy_s / native_s, "identical": str(identical[name])})
    total_numpy = sum(r["numpy"] for r in rows)
    total_native = sum(r["native"] for r in rows)
    rows.append({"call": "all", "numpy": total_numpy, "native": total_native,
                 "speedup": total_numpy / total_native,
                 "identical": str(all(identical.values()))})
    print(f"\nmedian of {args.repeat} rounds, seconds (load at end {load_average()})\n"
          + format_table(rows, [("call", "call", "<10"), ("numpy", "NumPy s", ">.3f"),
                                ("native", "native s", ">.3f"), ("speedup", "speed-up", ">.2f"),
                                ("identical", "same bits", ">")]))
    write_report(args.output, {"machine": info, "exposure": str(raw),
                               "repeat": args.repeat, "rows": rows, "runs": times})


if __name__ == "__main__":
    main()
