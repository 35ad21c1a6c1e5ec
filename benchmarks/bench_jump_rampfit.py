"""Jump detection and ramp fitting: hstramp against stcal, time and memory.

Builds seeded synthetic ramps (log-uniform rates, a few saturating pixels, 2% of
pixels hit by a cosmic ray, evenly spaced reads so that stcal is right too), then
times each call in its own child process (wall and CPU time, best of ``--repeat`` runs,
hstramp and stcal runs interleaved) and, in another child, measures the peak
extra resident memory of the call (peak RSS during the call minus RSS just before it;
the peak is reset through ``/proc/self/clear_refs`` when the kernel allows, else
``ru_maxrss``). Memory children run with a fixed glibc mmap threshold so that freed
buffers go back to the system and the RSS before the call counts only live data;
timing children run with the default allocator. stcal runs single-process (its
multiprocessing is slower on 2 cores).

Usage::

    python benchmarks/bench_jump_rampfit.py            # 16 x 1024^2 and 10 x 2048^2
    python benchmarks/bench_jump_rampfit.py --quick    # 16 x 256^2
    python benchmarks/bench_jump_rampfit.py --output results.json --repeat 3
    python benchmarks/bench_jump_rampfit.py --shape 16x1024 --no-spars
    python benchmarks/bench_jump_rampfit.py --numpy    # also the NumPy path, same run

``hstramp`` is the default implementation (the compiled kernels where they are built,
``HSTRAMP_KERNELS=auto``); ``--numpy`` adds ``hstramp-numpy``, the NumPy reference path
(``HSTRAMP_KERNELS=numpy``), interleaved with the others.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from _measure import (
    STRICT_MALLOC,
    machine,
    ratio,
    reset_peak,
    resident_mb,
    run_json_child,
    write_report,
)

GAIN = 2.5  # e-/DN
READ_NOISE = 6.0  # DN, one read
INTERVAL = 10.0  # s between reads
SPARS = np.concatenate([[0.0, 0.112705], 7.29408 + 7.181375 * np.arange(14)])
FULL = [(16, 1024), (10, 2048)]
QUICK = [(16, 256)]


# ------------------------------------------------------------------ inputs


def make_exposure(ngroups: int, side: int, times: np.ndarray, seed: int = 2024):
    """Seeded ramps ``[ngroups, side, side]`` in DN and their groupdq (saturation)."""
    rng = np.random.default_rng(seed)
    shape = (side, side)
    rate = (10 ** rng.uniform(-1, 2, shape)).astype(np.float32)
    bright = rng.random(shape) < 0.002
    rate[bright] = 4000.0
    data = np.empty((ngroups, *shape), np.float32)
    data[0] = 0.0
    accumulated = np.zeros(shape, np.float32)
    for k in range(1, ngroups):
        accumulated += rng.poisson(rate * GAIN * (times[k] - times[k - 1])) / GAIN
        data[k] = accumulated
    data += rng.normal(0.0, READ_NOISE, data.shape).astype(np.float32)
    hits = rng.random(shape) < 0.02
    read = rng.integers(1, ngroups, shape)
    size = rng.uniform(50, 5000, shape).astype(np.float32)
    for k in range(1, ngroups):
        chosen = hits & (read == k)
        data[k:, chosen] += size[chosen]
    groupdq = np.zeros(data.shape, np.uint16)
    groupdq[data > 60000] = 256
    return data, groupdq


def prepare(directory: Path, ngroups: int, side: int, timing: str) -> Path:
    """Write the inputs of one case as .npy files; return the case directory."""
    from hstramp.core.jump import detect_jumps

    case = directory / f"{timing}_{ngroups}x{side}"
    case.mkdir(parents=True, exist_ok=True)
    times = np.arange(ngroups) * INTERVAL if timing == "even" else SPARS[:ngroups]
    data, groupdq = make_exposure(ngroups, side, times)
    np.save(case / "data.npy", data)
    np.save(case / "groupdq.npy", groupdq)
    np.save(case / "times.npy", times)
    np.save(case / "jumped.npy", detect_jumps(data, groupdq, times, GAIN, READ_NOISE))
    return case


# ------------------------------------------------------------------ measurement (child)


def hstramp_call(step: str, case: Path):
    """The hstramp call to time, with its inputs loaded."""
    from hstramp.core.jump import detect_jumps
    from hstramp.core.ramp_fit import fit_ramps

    data, times = np.load(case / "data.npy"), np.load(case / "times.npy")
    if step == "jump":
        groupdq = np.load(case / "groupdq.npy")
        return lambda: detect_jumps(data, groupdq, times, GAIN, READ_NOISE)
    jumped = np.load(case / "jumped.npy")
    return lambda: fit_ramps(data, jumped, times, GAIN, READ_NOISE)


def stcal_call(step: str, case: Path):
    """The stcal call to time, with its inputs loaded and converted."""
    from hstramp.testing.stcal_oracle import prepare_stcal_jumps, prepare_stcal_ramp_fit

    data = np.load(case / "data.npy")
    if step == "jump":
        return prepare_stcal_jumps(data, np.load(case / "groupdq.npy"), GAIN, READ_NOISE)
    return prepare_stcal_ramp_fit(data, np.load(case / "jumped.npy"), GAIN, READ_NOISE,
                                  INTERVAL)


def measure(implementation: str, step: str, case: Path) -> dict:
    """Time one call and its peak extra RSS (run in a fresh child process)."""
    if implementation == "hstramp-numpy":
        from hstramp.core import native

        os.environ[native.ENV_VAR] = "numpy"
    call = (stcal_call if implementation == "stcal" else hstramp_call)(step, case)
    resettable = reset_peak()
    before = resident_mb("VmRSS")
    before_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start, start_cpu = time.perf_counter(), time.process_time()
    result = call()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    peak = (
        resident_mb("VmHWM")
        if resettable
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    del result
    return {
        "implementation": implementation,
        "step": step,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "extra_mb": peak - (before if resettable else max(before, before_max)),
        "peak_reset": resettable,
    }


# ------------------------------------------------------------------ driver (parent)


def run_child(implementation: str, step: str, case: Path, strict_memory: bool) -> dict:
    """Measure in a child process; return its result."""
    return run_json_child(__file__, [implementation, step, case],
                          env=STRICT_MALLOC if strict_memory else None)


def measure_step(repeat: int, implementations: list[str], step: str, case: Path) -> dict:
    """Best wall and CPU time of ``repeat`` runs per implementation, the runs of the
    implementations interleaved (so that they share any load on the machine); memory
    from one strict-allocator run each."""
    runs = {name: [] for name in implementations}
    for _ in range(repeat):
        for name in implementations:
            runs[name].append(run_child(name, step, case, False))
    row = {}
    for name in implementations:
        row[f"{name}_seconds"] = min(run["seconds"] for run in runs[name])
        row[f"{name}_cpu_seconds"] = min(run["cpu_seconds"] for run in runs[name])
        row[f"{name}_extra_mb"] = run_child(name, step, case, True)["extra_mb"]
    return row


def table(rows: list[dict]) -> str:
    """Text table of the results with hstramp/stcal ratios (wall time, CPU time, memory)."""
    header = (
        f"{'case':<14}{'step':<10}{'hstramp s':>10}{'stcal s':>9}{'ratio':>7}{'cpu ratio':>10}"
        f"{'hstramp MB':>11}{'stcal MB':>9}{'ratio':>7}"
    )
    lines = [header, "-" * len(header)]
    nan = float("nan")
    for row in rows:
        wall, cpu = row["hstramp_seconds"], row["hstramp_cpu_seconds"]
        memory = row["hstramp_extra_mb"]
        stcal_wall, stcal_cpu = row.get("stcal_seconds", nan), row.get("stcal_cpu_seconds", nan)
        stcal_memory = row.get("stcal_extra_mb", nan)
        lines.append(
            f"{row['case']:<14}{row['step']:<10}{wall:>10.3f}{stcal_wall:>9.3f}"
            f"{ratio(wall, stcal_wall):>7.2f}{ratio(cpu, stcal_cpu):>10.2f}"
            f"{memory:>11.1f}{stcal_memory:>9.1f}{ratio(memory, stcal_memory):>7.2f}"
        )
    return "\n".join(lines)


def kernel_table(rows: list[dict]) -> str:
    """Text table of hstramp (compiled kernels where built) against its NumPy path."""
    header = (f"{'case':<14}{'step':<10}{'hstramp s':>10}{'numpy s':>9}{'speed-up':>9}"
              f"{'hstramp MB':>11}{'numpy MB':>9}")
    lines = [header, "-" * len(header)]
    for row in rows:
        wall, numpy_wall = row["hstramp_seconds"], row["hstramp-numpy_seconds"]
        lines.append(
            f"{row['case']:<14}{row['step']:<10}{wall:>10.3f}{numpy_wall:>9.3f}"
            f"{ratio(numpy_wall, wall):>9.2f}{row['hstramp_extra_mb']:>11.1f}"
            f"{row['hstramp-numpy_extra_mb']:>9.1f}"
        )
    return "\n".join(lines)


def benchmark(shapes, repeat: int, with_stcal: bool, with_spars: bool,
              with_numpy: bool = False) -> list[dict]:
    """Run every case; return one row per (case, step) plus jump+fit totals."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_jump_rampfit_") as directory:
        cases = [("even", ngroups, side) for ngroups, side in shapes]
        if with_spars:
            cases += [("SPARS", 16, side) for ngroups, side in shapes if ngroups == 16]
        for timing, ngroups, side in cases:
            case = prepare(Path(directory), ngroups, side, timing)
            name = f"{timing} {ngroups}x{side}"
            steps = {}
            implementations = ["hstramp"] + (["hstramp-numpy"] if with_numpy else [])
            implementations += ["stcal"] if with_stcal and timing == "even" else []
            for step in ("jump", "fit"):
                row = {"case": name, "step": step}
                row.update(measure_step(repeat, implementations, step, case))
                steps[step] = row
                rows.append(row)
                print(table([row]).splitlines()[-1], flush=True)
            total = {"case": name, "step": "jump+fit"}
            for key in steps["jump"]:
                if key.endswith(("seconds", "_extra_mb")):
                    total[key] = steps["jump"][key] + steps["fit"][key]
            rows.append(total)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small shape (16 x 256^2)")
    parser.add_argument(
        "--shape", action="append", help="NGROUPSxSIDE, e.g. 16x1024 (repeatable; default: both)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (best)")
    parser.add_argument("--no-stcal", action="store_true", help="time hstramp only")
    parser.add_argument("--no-spars", action="store_true", help="skip the uneven SPARS case")
    parser.add_argument("--numpy", action="store_true",
                        help="also time the NumPy reference path (HSTRAMP_KERNELS=numpy)")
    parser.add_argument(
        "--output", default="bench_jump_rampfit.json", help="JSON results (default: %(default)s)"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        implementation, step, case = args.child
        print(json.dumps(measure(implementation, step, Path(case))))
        return
    shapes = QUICK if args.quick else FULL
    if args.shape:
        shapes = [tuple(int(n) for n in shape.lower().split("x")) for shape in args.shape]
    rows = benchmark(shapes, args.repeat, not args.no_stcal, not args.no_spars, args.numpy)
    print()
    print(table(rows))
    if args.numpy:
        print()
        print(kernel_table(rows))
    from hstramp.core import native

    report = {"machine": machine(), "rows": rows, "kernels": native.kernels_used()}
    try:
        import stcal

        report["stcal"] = stcal.__version__
    except ImportError:
        pass
    write_report(args.output, report)


if __name__ == "__main__":
    main()
