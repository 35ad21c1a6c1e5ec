"""The I/O floor of one exposure on this machine: bytes read and written against measured rates.

Measures, on this machine:

* memory copy: ``numpy.copyto`` of a 256 MB float32 array into another (best of 5);
* writing 256 MB through the page cache, ``dd if=/dev/zero of=FILE bs=1M count=256``, and
  to the disk, the same with ``conv=fdatasync``; reading it back from the page cache,
  ``dd if=FILE of=/dev/null bs=1M`` (best of 3 each, in ``--workdir``);

and counts the bytes of the simulated WFC3/IR full-frame 16-read exposure of
``bench_pipeline.py`` (raw + the reference files in its ``iref``) and the products one
``strun wfc3ir_pipeline`` writes (ima + flt), and likewise the STIS CR-SPLIT=2 exposure of
``bench_stis.py`` (raw + references, crj). The floor of an exposure is then its bytes read at
the page-cache read rate plus its bytes written at the page-cache write rate (what a process
cannot avoid when its inputs are cached and the kernel writes back later), and, stricter,
the bytes written at the disk rate.

Usage::

    python benchmarks/bench_floor.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from _measure import (
    console_script,
    format_table,
    load_average,
    machine,
    simulated_exposure,
    write_report,
)
from bench_pipeline import DEFAULT_WORKDIR
from bench_stis import make_inputs as stis_inputs

MB = 1 << 20
SIZE_MB = 256


def best_seconds(action, repeat: int) -> float:
    """The shortest of ``repeat`` timings of ``action()``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def memory_copy_rate() -> float:
    """MB/s copied by ``numpy.copyto`` (256 MB float32 into a second array)."""
    import numpy as np

    source = np.ones(SIZE_MB * MB // 4, dtype=np.float32)
    target = np.empty_like(source)
    return SIZE_MB / best_seconds(lambda: np.copyto(target, source), 5)


def dd_rates(directory: Path) -> dict:
    """MB/s of ``dd`` writes (page cache, fdatasync) and page-cache reads of 256 MB."""
    path = directory / "bench_floor.bin"
    write = ["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={SIZE_MB}", "status=none"]
    read = ["dd", f"if={path}", "of=/dev/null", "bs=1M", "status=none"]
    try:
        return {"write_page_cache_mb_s": SIZE_MB / best_seconds(
                    lambda: subprocess.run(write, check=True), 3),
                "write_fdatasync_mb_s": SIZE_MB / best_seconds(
                    lambda: subprocess.run([*write, "conv=fdatasync"], check=True), 3),
                "read_page_cache_mb_s": SIZE_MB / best_seconds(
                    lambda: subprocess.run(read, check=True), 3)}
    finally:
        path.unlink(missing_ok=True)


def input_bytes(raw: Path, references: Path) -> int:
    """The raw file and every reference file of its rootname in ``references``."""
    root = raw.name.removesuffix("_raw.fits")
    names = [p for p in references.glob(f"{root}_*.fits")
             if not p.name.endswith(("_truth.fits", "_raw.fits"))]
    return raw.stat().st_size + sum(p.stat().st_size for p in names)


def product_bytes(command: list, env: dict) -> int:
    """Run ``command + [--output_dir=TMP]`` once; the bytes of the FITS files it wrote."""
    with tempfile.TemporaryDirectory(prefix="bench_floor_") as where:
        subprocess.run([*command, f"--output_dir={where}"], check=True, capture_output=True,
                       env=dict(os.environ, **env))
        return sum(p.stat().st_size for p in Path(where).glob("*.fits"))


def floor_row(name: str, read: int, written: int, rates: dict) -> dict:
    """Bytes and the floors of one exposure."""
    return {"exposure": name, "read_mb": read / MB, "written_mb": written / MB,
            "floor_page_cache_s": read / MB / rates["read_page_cache_mb_s"]
            + written / MB / rates["write_page_cache_mb_s"],
            "floor_disk_write_s": written / MB / rates["write_fdatasync_mb_s"],
            "memory_copy_s": (read + written) / MB / rates["memory_copy_mb_s"]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(DEFAULT_WORKDIR),
                        help="simulated inputs and the dd file [%(default)s]")
    parser.add_argument("--output", default="bench_floor.json", help="JSON [%(default)s]")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine()}
    rates = {"memory_copy_mb_s": memory_copy_rate(), **dd_rates(workdir),
             "load": load_average()}
    report["rates"] = rates
    print(format_table([{"what": k, "rate": v} for k, v in rates.items() if k != "load"],
                       [("what", "rate (MB/s)", "<24"), ("rate", "MB/s", ">.0f")]))
    strun = console_script("strun")
    raw, iref = simulated_exposure(workdir, size=1014, nsamp=16)
    stis_raws, oref = stis_inputs(workdir, 1)
    rows = [floor_row("WFC3/IR full frame, 16 reads", input_bytes(raw, iref),
                      product_bytes([strun, "wfc3ir_pipeline", str(raw)], {"iref": str(iref)}),
                      rates),
            floor_row("STIS CCD full frame, CR-SPLIT=2", input_bytes(stis_raws[0], oref),
                      product_bytes([strun, "stis_ccd_pipeline", str(stis_raws[0])],
                                    {"oref": str(oref)}), rates)]
    report["floors"] = rows
    print("\n" + format_table(rows, [
        ("exposure", "exposure", "<32"), ("read_mb", "read MB", ">.0f"),
        ("written_mb", "written MB", ">.0f"), ("floor_page_cache_s", "floor (cache) s", ">.3f"),
        ("floor_disk_write_s", "floor (disk write) s", ">.3f"),
        ("memory_copy_s", "one memcpy of all s", ">.3f")]))
    write_report(args.output, report)


if __name__ == "__main__":
    main()
