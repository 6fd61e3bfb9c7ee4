"""The ``twin build`` subcommand: its arguments and handler (registered by :func:`twin.cli.build_parser`)."""

from __future__ import annotations

import argparse
import sys


def run_build(args) -> int:
    """``twin build BUILD.yaml --out DIR [--force]``: build, print the report, warnings on stderr; exit 0."""
    from twin.build.build import build_twin

    report = build_twin(args.config, args.out, force=args.force)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(report.text(), end="")
    print(f"wrote {report.out}/twin.yaml")
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``build`` to the ``twin`` command's subparsers."""
    p = subparsers.add_parser("build", help="build a twin from DEM tiles, building footprints and land cover "
                                            "(docs/build.md)")
    p.add_argument("config", help="build YAML file")
    p.add_argument("--out", required=True, help="the twin's folder (written whole; replaces only an empty "
                                                "folder or a twin built here)")
    p.add_argument("--force", action="store_true",
                   help="replace the folder even if it is not a twin built here (never one holding an input)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    p.set_defaults(func=run_build)
    return p
