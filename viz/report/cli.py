"""``twin report RUN_DIR [--pdf] [--out FILE]``: the parser and handler of the report command."""

from __future__ import annotations

import argparse


def _cmd_report(args) -> int:
    from viz.report.write import write_report

    out = write_report(args.run_dir, args.out, pdf=args.pdf)
    print(f"wrote {out}")
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to the ``twin`` command's subparsers."""
    p = subparsers.add_parser("report", help="write a run's report: report.html (self-contained, printable), --pdf")
    p.add_argument("run_dir", help="a finished run folder")
    p.add_argument("--out", help="report file, .html or .pdf (default: RUN_DIR/report.html)")
    p.add_argument("--pdf", action="store_true", help="also print the report to PDF with headless Chromium")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    p.set_defaults(func=_cmd_report)
    return p
