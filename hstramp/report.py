"""One static HTML page about calibrated exposures: a batch output directory or one exposure.

:func:`build_report` collects a row per exposure (status, failing step and error, timing, the
TVB verdict with the per-read sky curve, a thumbnail of the flt with its colour bar, a DQ
summary) and :func:`render_html` writes them as a self-contained page: images inline as
base64 PNG, inline CSS and a few lines of inline JavaScript to sort the table. No server and no
network: the page reads the same offline, mailed or archived.

A batch run with an output directory leaves :data:`BATCH_RECORD` there
(:func:`write_batch_record`, written by ``hstramp batch``): the status, step, error and timing
of every exposure, failed ones included. Without it the report is built from the products
found in the directory.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "BATCH_RECORD",
    "ExposureRow",
    "build_report",
    "exposure_rows",
    "read_batch_record",
    "render_html",
    "write_batch_record",
    "write_report",
]

log = logging.getLogger(__name__)

#: the file ``hstramp batch --output-dir`` leaves in its output directory
BATCH_RECORD = "hstramp_batch.json"

#: product suffixes looked for next to each other, by rootname
PRODUCT_SUFFIXES = ("flt", "ima")

#: resolution of the figures in the page
_THUMBNAIL_DPI = 72


@dataclass
class ExposureRow:
    """What the report shows about one exposure.

    Attributes
    ----------
    rootname : str
    input : str or None
        The exposure the batch calibrated (None when only products were found).
    status : str
        ``done``, ``skipped``, ``failed`` or ``found`` (products without a batch record).
    step, error : str or None
        Where and why a failure happened.
    seconds, cpu_seconds, rss_mb : float or None
        Wall and CPU time of the calibration, resident memory of its worker.
    products : dict
        Suffix (``ima``, ``flt``) -> path of the products that exist.
    tvb : str
        The TVB verdict (from the ima, else the input), or why there is none.
    tvb_png, flt_png : bytes or None
        The sky-curve and flt thumbnail figures.
    dq : dict
        Flag name -> pixels of the flt carrying it.
    npix : int
        Pixels in the flt.
    """

    rootname: str
    input: str | None = None
    status: str = "found"
    step: str | None = None
    error: str | None = None
    seconds: float | None = None
    cpu_seconds: float | None = None
    rss_mb: float | None = None
    products: dict = field(default_factory=dict)
    tvb: str = "-"
    tvb_png: bytes | None = None
    flt_png: bytes | None = None
    dq: dict = field(default_factory=dict)
    npix: int = 0


# --------------------------------------------------------------------------- the batch record
def write_batch_record(results, directory):
    """Write :data:`BATCH_RECORD` (JSON, one entry per exposure) into ``directory``.

    The file is written to a temporary name and renamed, so a reader never sees half of it.

    Parameters
    ----------
    results : list of hstramp.batch.ExposureResult
    directory : str or Path
        The batch's output directory.

    Returns
    -------
    Path
    """
    directory = Path(directory)
    entries = [dataclasses.asdict(result) for result in results]
    for entry in entries:
        entry["products"] = list(entry["products"])
    text = json.dumps({"format": "hstramp batch record 1", "exposures": entries}, indent=1)
    return _write_atomically(directory / BATCH_RECORD, text)


def _umask():
    """The process's file-creation mask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_atomically(path, text):
    """Write ``text`` to a temporary file beside ``path`` and rename it; return ``path``."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def read_batch_record(directory):
    """The entries of the batch record in ``directory`` (empty list if there is none).

    Raises
    ------
    hstramp.errors.InputFileError
        The record exists but is not a batch record.
    """
    from hstramp.errors import InputFileError

    path = Path(directory) / BATCH_RECORD
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text())["exposures"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputFileError(f"{path} is not an hstramp batch record: {exc}") from exc
    return entries


# --------------------------------------------------------------------------- collecting rows
def _rootname_of(path):
    """The rootname a file name starts with (``ibxy01aoq`` of ``ibxy01aoq_flt.fits``)."""
    return Path(path).name.split("_")[0].lower()


def _products_in(directory, rootname):
    """Suffix -> path of the products of ``rootname`` present in ``directory``."""
    found = {}
    for suffix in PRODUCT_SUFFIXES:
        path = Path(directory) / f"{rootname}_{suffix}.fits"
        if path.is_file():
            found[suffix] = path
    return found


def _rows_from_record(directory, entries):
    rows = []
    for entry in entries:
        rootname = _rootname_of(entry["path"])
        products = {_suffix(p): Path(p) for p in entry.get("products", ()) if Path(p).is_file()}
        if not products:
            products = _products_in(directory, rootname)
        rows.append(ExposureRow(
            rootname=rootname, input=entry["path"], status=entry["status"],
            step=entry.get("step"), error=entry.get("error"),
            seconds=entry.get("seconds") if entry["status"] != "skipped" else None,
            cpu_seconds=entry.get("cpu_seconds") if entry["status"] != "skipped" else None,
            rss_mb=entry.get("rss_mb") or None, products=products))
    return rows


def _suffix(path):
    """``flt`` of ``ibxy01aoq_flt.fits``."""
    stem = Path(path).name.split(".")[0]
    return stem.rsplit("_", 1)[-1].lower()


def exposure_rows(target):
    """The exposures a report covers, before any figure is made.

    Parameters
    ----------
    target : str or Path
        A batch output directory (with or without :data:`BATCH_RECORD`), or one file of an
        exposure (raw, ima or flt): its products are looked for beside it.

    Returns
    -------
    list of ExposureRow

    Raises
    ------
    hstramp.errors.InputFileError
        The target does not exist, or a directory holds no record and no product.
    """
    from hstramp.errors import InputFileError

    target = Path(target)
    if target.is_dir():
        entries = read_batch_record(target)
        if entries:
            return _rows_from_record(target, entries)
        rootnames = sorted({_rootname_of(p) for suffix in PRODUCT_SUFFIXES
                            for p in target.glob(f"*_{suffix}.fits")})
        if not rootnames:
            raise InputFileError(f"{target} holds no {BATCH_RECORD} and no *_flt.fits or "
                                 "*_ima.fits product")
        return [ExposureRow(rootname=name, products=_products_in(target, name))
                for name in rootnames]
    if not target.is_file():
        raise InputFileError(f"{target} does not exist")
    rootname = _rootname_of(target)
    products = _products_in(target.parent, rootname)
    suffix = _suffix(target)
    if suffix in PRODUCT_SUFFIXES:
        products.setdefault(suffix, target)
    return [ExposureRow(rootname=rootname, input=str(target) if suffix == "raw" else None,
                        products=products)]


# --------------------------------------------------------------------------- figures
def _tvb_of(row):
    """Fill the TVB verdict and sky-curve figure from the ima, else the input raw."""
    from hstramp.cli.tvb import file_detection, verdict
    from hstramp.errors import HstrampError
    from hstramp.plots import figure_png, new_figure, sky_curve

    source = row.products.get("ima") or (Path(row.input) if row.input else None)
    if source is None or not Path(source).is_file():
        row.tvb = "no ima or raw to measure"
        return
    try:
        ramp, _levels, result = file_detection(source)
    except (HstrampError, ValueError, OSError) as exc:
        row.tvb = f"not measured: {exc}"
        return
    row.tvb = verdict(result)
    figure, ax = new_figure(figsize=(3.6, 2.5))
    sky_curve(ax, result, ramp.unit, legend=False)
    ax.set_ylabel(f"sky ({ramp.unit})", fontsize=8)
    ax.xaxis.label.set_size(8)
    ax.set_title(f"{Path(source).name}: metric {result.metric:.3f}", fontsize=8)
    figure.tight_layout()
    row.tvb_png = figure_png(figure, dpi=_THUMBNAIL_DPI)


def _flt_of(row):
    """Fill the flt thumbnail and the DQ summary."""
    from hstramp.datamodels.dqflags import IR_FLAGS, SDQFLAGS_DEFAULT
    from hstramp.plots import figure_png, new_figure, show_image

    path = row.products.get("flt")
    if path is None:
        return
    from astropy.io import fits

    with fits.open(path) as hdus:
        data = np.asarray(hdus["SCI"].data, dtype=np.float32)
        dq = np.asarray(hdus["DQ"].data) if "DQ" in hdus and hdus["DQ"].data is not None \
            else np.zeros(data.shape, np.uint16)
        bunit = str(hdus["SCI"].header.get("BUNIT", ""))
    row.npix = int(data.size)
    dq = dq.astype(np.int64)
    row.dq = {name: int(np.count_nonzero(dq & bit)) for name, bit in IR_FLAGS.items()
              if np.any(dq & bit)}
    figure, ax = new_figure(figsize=(4.2, 3.4))
    show_image(ax, data, quantity="rate", unit=bunit or "?",
               mask=(dq & SDQFLAGS_DEFAULT) != 0)
    ax.set_title(Path(path).name, fontsize=8)
    ax.tick_params(labelsize=6)
    ax.xaxis.label.set_size(7)
    ax.yaxis.label.set_size(7)
    ax.images[0].colorbar.ax.tick_params(labelsize=6)
    ax.images[0].colorbar.ax.yaxis.label.set_size(7)
    figure.tight_layout()
    row.flt_png = figure_png(figure, dpi=_THUMBNAIL_DPI)


def build_report(target):
    """Every exposure of ``target`` with its figures (see :func:`exposure_rows`).

    Returns
    -------
    list of ExposureRow
    """
    rows = exposure_rows(target)
    for row in rows:
        _tvb_of(row)
        _flt_of(row)
    return rows


# --------------------------------------------------------------------------- HTML
_CSS = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #bbb; padding: 4px 6px; vertical-align: top; font-size: 0.85em; }
th { background: #e8ecf2; cursor: pointer; user-select: none; }
th.sorted-up::after { content: " \\25B2"; }
th.sorted-down::after { content: " \\25BC"; }
tr.failed { background: #fde8e8; }
tr.skipped { background: #f3f3f3; }
td.error { max-width: 22em; font-family: monospace; white-space: pre-wrap; }
td.dq { white-space: nowrap; font-family: monospace; }
img { display: block; }
.muted { color: #777; }
"""

_SCRIPT = """
function sortBy(th) {
  const table = th.closest('table');
  const body = table.tBodies[0];
  const index = Array.from(th.parentNode.children).indexOf(th);
  const up = !th.classList.contains('sorted-up');
  table.querySelectorAll('th').forEach(h => h.classList.remove('sorted-up', 'sorted-down'));
  th.classList.add(up ? 'sorted-up' : 'sorted-down');
  const key = row => row.children[index].dataset.sort;
  const rows = Array.from(body.rows);
  const numeric = rows.every(r => key(r) === '' || !isNaN(parseFloat(key(r))));
  const value = v => (v === '' ? -Infinity : parseFloat(v));
  rows.sort((a, b) => {
    let x = key(a), y = key(b);
    if (numeric) { x = value(x); y = value(y); }
    return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
  });
  rows.forEach(r => body.appendChild(r));
}
document.querySelectorAll('th').forEach(th => th.addEventListener('click', () => sortBy(th)));
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  images.forEach(img => {
    img.dataset.loaded = (img.complete && img.naturalWidth > 0) ? 'yes' : 'no';
  });
  document.body.dataset.imagesLoaded = images.filter(img => img.dataset.loaded === 'yes').length;
  document.body.dataset.imagesTotal = images.length;
});
"""

_COLUMNS = ("exposure", "status", "time (s)", "CPU (s)", "memory (MB)", "failing step", "error",
            "TVB", "sky curve", "flt", "DQ of the flt")


def _cell(content, sort="", css=""):
    """A table cell whose ``data-sort`` key the sorting script uses."""
    css = f' class="{css}"' if css else ""
    return f'<td data-sort="{html.escape(str(sort), quote=True)}"{css}>{content}</td>'


def _image(png, alt):
    if png is None:
        return '<span class="muted">-</span>'
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,{encoded}">'


def _number(value, digits=2):
    return ("-", "") if value is None else (f"{value:.{digits}f}", f"{value:.6g}")


def _dq_summary(row):
    if not row.npix:
        return "-", ""
    if not row.dq:
        return "no flag", "0"
    lines = [f"{name} {count} ({100 * count / row.npix:.2g} %)"
             for name, count in sorted(row.dq.items(), key=lambda item: -item[1])]
    flagged = max(row.dq.values())
    return "<br>".join(html.escape(line) for line in lines), str(flagged)


def _row_html(row):
    text = html.escape
    cells = [
        _cell(text(row.rootname), row.rootname),
        _cell(text(row.status), row.status),
        _cell(*_number(row.seconds)),
        _cell(*_number(row.cpu_seconds)),
        _cell(*_number(row.rss_mb, 0)),
        _cell(text(row.step or "-"), row.step or ""),
        _cell(text(row.error or "-"), row.error or "", "error"),
        _cell(text(row.tvb), row.tvb),
        _cell(_image(row.tvb_png, f"sky curve of {row.rootname}"), row.rootname),
        _cell(_image(row.flt_png, f"flt of {row.rootname}"), row.rootname),
    ]
    summary, key = _dq_summary(row)
    cells.append(_cell(summary, key, "dq"))
    return f'<tr class="{text(row.status)}" data-rootname="{text(row.rootname)}">' \
           + "".join(cells) + "</tr>"


def render_html(rows, *, title):
    """The report page as one self-contained HTML string.

    Parameters
    ----------
    rows : list of ExposureRow
    title : str
        The page title and heading.

    Returns
    -------
    str
    """
    counts = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    head = "".join(f"<th>{html.escape(name)}</th>" for name in _COLUMNS)
    body = "\n".join(_row_html(row) for row in rows)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>{len(rows)} exposures: {html.escape(summary)}. Click a column heading to sort.
Sky curve: the sky of every read against the constant-rate line, the band is the TVB
threshold. flt: asinh stretch between the 0.5 and 99.9 percentiles of the unflagged pixels.</p>
<table id="exposures">
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
</table>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def write_report(target, out):
    """Build the report of ``target`` and write it to ``out`` (all or nothing).

    Parameters
    ----------
    target : str or Path
        A batch output directory or one file of an exposure.
    out : str or Path
        The HTML file to write.

    Returns
    -------
    list of ExposureRow
    """
    rows = build_report(target)
    _write_atomically(out, render_html(rows, title=f"hstramp report: {Path(target).name}"))
    return rows
