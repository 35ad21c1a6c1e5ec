"""``hstramp report``: one static HTML page about a batch output directory or one exposure."""

from __future__ import annotations

from pathlib import Path

from hstramp.cli.arguments import output_file


def add_arguments(parser):
    """The subcommand's description and arguments."""
    parser.description = ("Write a self-contained HTML page (images inline, no server, readable "
                    "offline) with a row per exposure: status, failing step and error, "
                    "timing, TVB verdict and sky curve, flt thumbnail with colour bar, DQ "
                    "summary. TARGET is the --output-dir of `hstramp batch` (its "
                    "hstramp_batch.json record names failed exposures too) or any directory "
                    "of products, or one raw/ima/flt file.")
    parser.add_argument("target", metavar="OUTDIR_OR_FILE",
                        help="a batch output directory, or one exposure's file")
    parser.add_argument("--out", default="report.html", type=output_file,
                        help="HTML file to write [report.html]")


def run(args):
    """Build and write the page; print where it is."""
    from hstramp.errors import OutputFileError
    from hstramp.report import write_report

    out = Path(args.out)
    if Path(args.target).is_file():  # one exposure: refuse what is not one, naming why
        from hstramp.datamodels import open as open_model

        open_model(args.target)
    if not out.parent.is_dir():
        raise OutputFileError(f"--out {out}: directory {out.parent} does not exist")
    rows = write_report(args.target, out)
    failed = sum(row.status == "failed" for row in rows)
    print(f"report of {len(rows)} exposures ({failed} failed): {out}")
    return 0
