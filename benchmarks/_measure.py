"""Measurement helpers shared by the benchmark scripts (not a test, not part of hstramp).

Memory: the peak resident set of a process comes from the kernel (``VmHWM`` in
``/proc/self/status``, resettable through ``/proc/self/clear_refs``; ``ru_maxrss`` elsewhere),
and for a child process from ``os.wait4``'s resource usage. Time: wall time from
``time.perf_counter`` and CPU time (user + system) from the kernel; on a shared machine CPU
time is the steadier of the two, so every measurement also records the load average.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: the issue's anchors for stcal (1 x 16 x 1024^2) and for importing stpipe + stdatamodels;
#: the benchmarks measure these again in the same run where they can.
ISSUE_STCAL_JUMP_SECONDS = 0.63
ISSUE_STCAL_FIT_SECONDS = 1.26
ISSUE_IMPORT_SECONDS = 1.2

#: Allocator settings for memory measurements: every buffer above 128 kB is mapped and
#: unmapped on its own, and the heap is trimmed at once, so that the resident set before a
#: call counts only live data.
STRICT_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "0"}


def resident_mb(field: str) -> float:
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status, MB (NaN if unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark for this process; False if not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_mb() -> float:
    """Peak resident memory of this process, MB (since the last :func:`reset_peak`)."""
    peak = resident_mb("VmHWM")
    if peak == peak:  # not NaN
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads), s."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where the OS does not tell)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def ratio(ours: float, theirs: float) -> float:
    """``ours / theirs``, NaN when ``theirs`` is not positive."""
    return ours / theirs if theirs > 0 else float("nan")


#: Runs a command and reports its wall and CPU time and peak RSS. It is a small process, so
#: that the command's peak RSS is its own: Linux keeps, across ``exec``, the resident set the
#: forked child had before it (a copy of its parent), and a large benchmark driver would
#: otherwise show as the peak of every command it starts. The peak is also sampled from
#: ``/proc/<pid>/status`` every 5 ms, a check on ``ru_maxrss``.
_LAUNCHER = """
import json, resource, subprocess, sys, time
def rss(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
sampled = 0.0
while child.poll() is None:
    sampled = max(sampled, rss(child.pid))
    time.sleep(0.005)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"returncode": child.returncode, "seconds": seconds,
                  "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "maxrss_mb": usage.ru_maxrss / 1024,
                  "peak_mb": max(sampled, usage.ru_maxrss / 1024)}))
"""


def run_process(command, env=None, cwd=None) -> dict:
    """Run a command to the end; its wall time, CPU time and peak RSS from the OS.

    Parameters
    ----------
    command : list of str
        The command.
    env : dict, optional
        Its environment (default: this one).
    cwd : str or Path, optional
        Its working directory (default: this one).

    Returns
    -------
    dict
        ``seconds`` (wall), ``cpu_seconds`` (user + system of the command), ``peak_mb``
        (its peak RSS: the larger of ``ru_maxrss`` and the sampled peak), ``maxrss_mb``
        (``ru_maxrss`` alone), ``load`` (load averages at the end).

    Raises
    ------
    subprocess.CalledProcessError
        The command failed (its stderr is in the exception).
    """
    launched = subprocess.run([sys.executable, "-I", "-S", "-c", _LAUNCHER, *command], env=env,
                              cwd=cwd, capture_output=True, text=True, check=True)
    result = json.loads(launched.stdout.strip().splitlines()[-1])
    if result.pop("returncode"):
        raise subprocess.CalledProcessError(1, command, stderr=launched.stderr)
    return {**result, "load": load_average()}


def round_ratios(ours: dict, theirs: dict, key: str = "seconds") -> dict:
    """Round by round: ours' run ``k`` over theirs' run ``k`` (they ran next to each other).

    On a shared machine whose speed drifts from minute to minute, the two runs of one round
    share its state; the median of these ratios is steadier than the ratio of the medians.

    Parameters
    ----------
    ours, theirs : dict
        Rows of :func:`side_by_side` (with their ``runs``).
    key : str
        ``"seconds"`` or ``"cpu_seconds"``.

    Returns
    -------
    dict
        ``median``, ``low`` and ``high`` of the rounds' ratios.
    """
    values = sorted(ratio(a[key], b[key]) for a, b in zip(ours["runs"], theirs["runs"],
                                                           strict=True))
    return {"median": statistics.median(values), "low": values[0], "high": values[-1]}


def round_ratio_text(ours: dict, theirs: dict) -> str:
    """`` (round by round: median 0.62x, 0.55-0.70x)`` for a ratio line."""
    rounds = round_ratios(ours, theirs)
    return (f" (round by round: median {rounds['median']:.2f}x, "
            f"{rounds['low']:.2f}-{rounds['high']:.2f}x)")


def median_of(runs: list[dict]) -> dict:
    """The median of each numeric field over several runs (``runs``: the raw runs)."""
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    summary = {k: statistics.median(run[k] for run in runs) for k in keys}
    summary["runs"] = runs
    return summary


def run_json_child(script: str, arguments, env=None) -> dict:
    """Run ``python script --child ARGUMENTS`` and return the JSON of its last stdout line."""
    command = [sys.executable, script, "--child", *map(str, arguments)]
    environment = None if env is None else dict(os.environ, **env)
    output = subprocess.run(command, check=True, capture_output=True, text=True,
                            env=environment).stdout
    return json.loads(output.strip().splitlines()[-1])


def machine() -> dict:
    """What ran the benchmark: CPUs, Python, NumPy, load averages now, and whether this
    environment keeps Python from writing bytecode (see :func:`prepare_bytecode`)."""
    import numpy

    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": numpy.__version__, "platform": platform.platform(),
            "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
            "load_at_start": load_average()}


def console_script(name: str) -> str:
    """The console script ``name`` (``strun``, ``hstramp``) installed beside the interpreter
    running the benchmark, else the first on ``PATH``.

    A version manager's shim on ``PATH`` (pyenv's is a shell script that runs ``pyenv exec``)
    would add its own start, about 70 ms here, to every run of the script measured; the
    anchors and ``sys.executable`` run directly.
    """
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name) or name


def add_bytecode_option(parser) -> None:
    """``--no-bytecode``: see :func:`prepare_bytecode`."""
    parser.add_argument(
        "--no-bytecode", action="store_true",
        help="remove the bytecode of the hstramp trees measured, so that every process "
             "compiles hstramp from source (an editable install under "
             "PYTHONDONTWRITEBYTECODE=1); by default it is compiled first, as a wheel "
             "install does")


def prepare_bytecode(trees, compiled: bool = True) -> dict:
    """Byte-compile hstramp in each source tree (or remove its bytecode), before timing.

    A wheel install byte-compiles the package, and an editable install writes the bytecode
    on its first import, unless ``PYTHONDONTWRITEBYTECODE`` is set: then every process
    compiles hstramp's modules again, 0.1-0.15 s of the process start on the machines
    measured. The third-party packages were byte-compiled by pip in either case.

    Parameters
    ----------
    trees : iterable of Path
        Directories holding an ``hstramp`` package (a source tree, or its parent).
    compiled : bool
        Compile (True) or remove every ``__pycache__`` under ``hstramp`` (False).

    Returns
    -------
    dict
        ``{"hstramp_bytecode": "compiled" or "removed", "trees": [...]}`` for the report.
    """
    import compileall

    done = []
    for tree in trees:
        package = Path(tree) / "hstramp"
        if not package.is_dir():
            continue
        if compiled:
            if not compileall.compile_dir(str(package), quiet=1):
                raise SystemExit(f"byte-compiling {package} failed")
        else:
            for cache in sorted(package.rglob("__pycache__")):
                shutil.rmtree(cache)
        done.append(str(package))
    return {"hstramp_bytecode": "compiled" if compiled else "removed", "trees": done}


def hstramp_tree() -> Path:
    """The source tree of the hstramp this interpreter imports."""
    import hstramp

    return Path(hstramp.__file__).resolve().parent.parent


def format_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """A text table.

    Parameters
    ----------
    rows : list of dict
        The values.
    columns : list of (key, heading, format)
        Format is a format spec such as ``">8.3f"`` or ``"<14"``; a missing value prints ``-``.

    Returns
    -------
    str
    """
    def cell(row, key, spec):
        value = row.get(key)
        return "-" if value is None else format(value, spec.lstrip("<>"))

    cells = [[cell(row, key, spec) for key, _heading, spec in columns] for row in rows]
    widths = [max([len(heading), 8] + [len(line[i]) for line in cells])
              for i, (_key, heading, _spec) in enumerate(columns)]
    left = [spec.startswith("<") for _key, _heading, spec in columns]
    header = "  ".join(f"{heading:{'<' if flush else '>'}{width}}"
                       for (_key, heading, _spec), width, flush in zip(columns, widths, left,
                                                                      strict=True))
    lines = [header, "-" * len(header)]
    for line in cells:
        lines.append("  ".join(f"{text:{'<' if flush else '>'}{width}}"
                               for text, width, flush in zip(line, widths, left, strict=True)))
    return "\n".join(lines)


def write_report(path, report: dict) -> None:
    """Write the JSON results (with the load average at the end) and say where."""
    report.setdefault("machine", machine())["load_at_end"] = load_average()
    Path(path).write_text(json.dumps(report, indent=2, default=str))
    print(f"\nwritten {path}")


def simulated_exposure(directory, size: int = 1014, nsamp: int = 16, seed: int = 8,
                       samp_seq: str = "SPARS25", subdir: str | None = None
                       ) -> tuple[Path, Path]:
    """A simulated WFC3/IR exposure, made once and reused (the simulator is deterministic).

    Parameters
    ----------
    directory : str or Path
        Cache directory; the exposure goes into ``<directory>/<subdir>``, by default
        ``sim_<size>_<nsamp>_<seed>_<samp_seq>``. Exposures of different seeds can share a
        subdirectory (their reference files are named after their rootnames).
    size, nsamp, seed, samp_seq
        As :func:`hstramp.simulate.simulate_exposure` (1014: full frame, 1024^2 with the
        reference pixels).

    Returns
    -------
    tuple of Path
        The raw file and the ``iref`` directory of its references.
    """
    from hstramp.simulate import simulate_exposure

    where = Path(directory) / (subdir or f"sim_{size}_{nsamp}_{seed}_{samp_seq.lower()}")
    rootname = f"ibnc{seed % 1000:03d}{nsamp:02d}"[:9]
    raw = where / f"{rootname}_raw.fits"
    if not raw.is_file():
        simulate_exposure(where, size=size, samp_seq=samp_seq, nsamp=nsamp, seed=seed,
                          rootname=rootname)
    return raw, where


def stage_timer(pipeline) -> list:
    """Record when ``pipeline`` starts each stage (read, check, steps, write).

    Returns
    -------
    list
        Filled during a run with ``(stage, wall, cpu, peak)`` start marks, ``peak`` being
        the process's peak RSS so far; give it to
        :func:`stage_durations` after the run.
    """
    from hstramp.batch import track_stages

    marks = []
    track_stages(pipeline, lambda name: marks.append((name, time.perf_counter(),
                                                      cpu_seconds(), peak_mb())))
    return marks


def stage_durations(marks, end_wall: float, end_cpu: float, end_peak: float) -> list[dict]:
    """Wall time, CPU time and peak RSS of each stage from the marks of :func:`stage_timer`.

    The two ``check`` stages (outputs, references) are merged into one row.
    """
    rows = []
    ends = [mark[1:] for mark in marks[1:]] + [(end_wall, end_cpu, end_peak)]
    for (name, wall, cpu, _peak), (next_wall, next_cpu, peak) in zip(marks, ends, strict=True):
        if rows and rows[-1]["stage"] == name:
            rows[-1]["seconds"] += next_wall - wall
            rows[-1]["cpu_seconds"] += next_cpu - cpu
            rows[-1]["peak_mb"] = max(rows[-1]["peak_mb"], peak)
            continue
        rows.append({"stage": name, "seconds": next_wall - wall,
                     "cpu_seconds": next_cpu - cpu, "peak_mb": peak})
    return rows


# ------------------------------------------------------------------ side by side with the anchors


def anchor_executable(given: str | None, variable: str) -> Path | None:
    """An anchor program (calwf3.e, cs0.e) from an option or else an environment variable.

    Parameters
    ----------
    given : str or None
        The command-line value.
    variable : str
        The environment variable to fall back on (``CALWF3``, ``CALSTIS``).

    Returns
    -------
    Path or None
        The executable, or None when neither names one.

    Raises
    ------
    SystemExit
        The named file is not an executable.
    """
    value = given or os.environ.get(variable)
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise SystemExit(f"{variable}: {value} is not an executable file")
    return path


@dataclass
class Contender:
    """One command of a side-by-side comparison, run in a fresh output directory each time.

    Attributes
    ----------
    name : str
        Its row in the tables.
    command : callable
        ``command(where)`` -> the command line, given the run's fresh directory (it may put
        links to the inputs there first; that is not timed). The command runs in ``where``.
    env : dict, optional
        Environment variables added to this one.
    products : tuple of str
        File names that must exist in ``where`` afterwards (anchors exit 0 on some errors).
    check : callable, optional
        ``check(where)`` -> a list of problems found in its logs (empty: a clean run).
    collect : callable, optional
        ``collect(where)`` -> extra fields for the run's record (read before the directory
        is removed).
    """

    name: str
    command: Callable[[Path], list]
    env: dict = field(default_factory=dict)
    products: tuple = ()
    check: Callable[[Path], list] | None = None
    collect: Callable[[Path], dict] | None = None

    def run(self, parent: Path) -> dict:
        """One run in a new directory under ``parent`` (removed afterwards)."""
        where = Path(tempfile.mkdtemp(prefix="run_", dir=parent))
        try:
            command = self.command(where)
            load = load_average()
            result = run_process(command, env=dict(os.environ, **self.env), cwd=where)
            missing = [name for name in self.products if not (where / name).is_file()]
            problems = self.check(where) if self.check else []
            if missing or problems:
                raise RuntimeError(f"{self.name}: products missing {missing}, "
                                   f"problems {problems}")
            extra = self.collect(where) if self.collect else {}
        finally:
            shutil.rmtree(where, ignore_errors=True)
        return {**result, "load_before": load, **extra}


def side_by_side(contenders: list[Contender], repeat: int, parent) -> dict:
    """Run the contenders in turn, ``repeat`` rounds, alternating their order every round.

    Every contender's round ``k`` runs next to the others' round ``k``, so they share the
    machine's load and page cache; the order flips each round so that none always goes
    first.

    Returns
    -------
    dict
        Per contender the medians of its runs (:func:`median_of`, raw runs included).
    """
    runs = {contender.name: [] for contender in contenders}
    for round_number in range(repeat):
        order = contenders if round_number % 2 == 0 else contenders[::-1]
        for contender in order:
            runs[contender.name].append(contender.run(Path(parent)))
    return {name: median_of(results) for name, results in runs.items()}


#: runs an anchor on each input given, one after another, stdout to ``<input>.log``
_ANCHOR_LOOP = 'exe=$1; shift; for f do "$exe" "$f" > "$f.log" 2>&1 || exit 1; done'


def anchor_contender(name: str, executable: Path, raws, products, env) -> Contender:
    """An hstcal program run on each of ``raws`` in turn, in one shell, in a fresh directory.

    Links to the raws are made in the directory first (hstcal writes its products next to
    its input and refuses to overwrite them). A run whose log has an ``ERROR`` line fails
    (hstcal exits 0 after some errors).

    Parameters
    ----------
    name : str
        Row name.
    executable : Path
        calwf3.e or cs0.e.
    raws : list of Path
        Inputs, in order.
    products : callable
        ``products(raw_name)`` -> the product file names of one input.
    env : dict
        Environment (``iref`` / ``oref``, with the trailing slash hstcal needs).
    """
    raws = [Path(raw) for raw in raws]

    def command(where: Path) -> list:
        for raw in raws:
            (where / raw.name).symlink_to(raw)
        return ["sh", "-c", _ANCHOR_LOOP, "sh", str(executable), *(raw.name for raw in raws)]

    def check(where: Path) -> list:
        return [f"{log.name}: {line.strip()}" for log in sorted(where.glob("*.log"))
                for line in log.read_text(errors="replace").splitlines()
                if line.lstrip().startswith("ERROR")]

    return Contender(name, command, env=env, check=check,
                     products=tuple(p for raw in raws for p in products(raw.name)))


def calwf3_references(iref, destination) -> tuple[Path, list[str]]:
    """The benchmark's own copy of a simulated ``iref`` directory, readable by calwf3.

    Two things in hstramp's simulated WFC3/IR references stop calwf3 3.7.3 (found for
    issue 18; hstramp ignores both, and its products are byte for byte the same with either
    copy):

    * CCDTAB rows have CCDOFSTA-D = 190, but calwf3 matches those columns against the
      exposure's offsets, which are 0 for IR (getccdtab.c; getkeys.c reads CCDOFSTx only
      for UVIS): "Matching row not found in CCDTAB", exit 2. The copy sets them to 0.
    * IMPHTTAB's primary header has no PARNUM: PHOTCORR fails ("Trying to get PARNUM...",
      "Error return GetPhotTab"), no PHOTFLAM, exit 0. The copy adds PARNUM = 1 (one
      parameter, MJD#).

    Every other file is a symbolic link to the original.

    Parameters
    ----------
    iref : str or Path
        The simulator's directory.
    destination : str or Path
        Where to make the copy (replaced if it exists).

    Returns
    -------
    Path, list of str
        The copy, and one line per change made.
    """
    from astropy.io import fits

    source, copy = Path(iref).resolve(), Path(destination)
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    changes = []
    for path in sorted(source.glob("*.fits")):
        target = copy / path.name
        if path.name.endswith(("_ccd.fits", "_imp.fits")):
            with fits.open(path) as hdus:
                changes += _calwf3_fixes(hdus, path.name)
                hdus.writeto(target)
        else:
            target.symlink_to(path)
    return copy, changes


def _calwf3_fixes(hdus, name: str) -> list[str]:
    """Apply :func:`calwf3_references`'s two fixes to an open CCDTAB or IMPHTTAB."""
    changes = []
    if name.endswith("_ccd.fits"):
        for amp in "ABCD":
            column = hdus[1].data[f"CCDOFST{amp}"]
            if (column != 0).any():
                changes.append(f"{name}: CCDOFST{amp} {sorted(set(column.tolist()))} -> 0")
                column[:] = 0
    elif "PARNUM" not in hdus[0].header:
        hdus[0].header["PARNUM"] = (1, "number of parameterized variables")
        changes.append(f"{name}: PARNUM = 1 added to the primary header")
    return changes
