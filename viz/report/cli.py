"""``twin report RUN_DIR [--pdf] [--out FILE]``: the parser and handler of the report command.

``twin/cli.py`` registers it with :func:`add_parser`, giving the options every subcommand takes
(``-v``/``-q``, ``--log-file``, ``--debug``) as a parent parser.
"""

from __future__ import annotations

import argparse

SUMMARY = "write a run's report: report.html (self-contained, printable) and, with --pdf, its PDF"
EXAMPLE = ("  twin report runs/sample-flash-flood\n"
           "  twin report runs/sample-flash-flood --pdf\n"
           "  twin report runs/sample-urban-fire --out fire.pdf")


def _cmd_report(args) -> int:
    from viz.report.write import write_report

    out = write_report(args.run_dir, args.out, pdf=args.pdf)
    if not getattr(args, "quiet", False):
        print(f"wrote {out}")
    return 0


def add_parser(subparsers, common: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to the ``twin`` command's subparsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``twin`` parser's subcommands.
    common : argparse.ArgumentParser, optional
        The options every subcommand takes (a parent parser without help).

    Returns
    -------
    argparse.ArgumentParser
        The ``report`` parser.
    """
    p = subparsers.add_parser("report", help=SUMMARY, description=SUMMARY, parents=[common] if common else [],
                              epilog=f"example:\n{EXAMPLE}", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", help="a finished run folder (twin.nc, hazard.nc, summary.json, …)")
    p.add_argument("--out", metavar="FILE",
                   help="the report, .html or .pdf (the other beside it; default: RUN_DIR/report.html)")
    p.add_argument("--pdf", action="store_true", help="also print the report to PDF with headless Chromium")
    p.set_defaults(func=_cmd_report)
    return p
