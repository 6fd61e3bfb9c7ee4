"""The ``twin`` command line: argument parsing only; the work is done in the packages.

Exit codes: 0 ok (also when the reader of stdout goes away, e.g. ``twin info X | head -1``),
2 bad input (one-line message on stderr), 1 run failure. Every subcommand takes ``-v``/``-q``
and ``--log-file`` (:mod:`twin.io.runlog`); ``info``, ``validate`` and ``run`` take ``--json``
(machine-readable on stdout, nothing else there).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from twin import __version__
from twin.core.errors import InputError, RunError
from twin.io.runlog import LOGGER, cli_logging

EXIT_OK, EXIT_RUN_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


class StdoutClosed(Exception):
    """The reader of stdout went away (``| head -1``): the command ends quietly."""


def _write(text: str) -> None:
    """``text`` and a newline on stdout, flushed, so that a closed pipe shows here."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        raise StdoutClosed() from None


def _say(args, *lines: str) -> None:
    """Lines of the command's report on stdout, unless ``-q``."""
    if not args.quiet:
        for line in lines:
            _write(line)


def _emit_json(data) -> None:
    """``data`` as JSON on stdout (``--json``; printed with ``-q`` too)."""
    _write(json.dumps(data, indent=2, default=str))


def _cmd_info(args) -> int:
    from twin.core.citytwin import load_twin, summarize
    from twin.hazards.registry import load_scenario

    path = Path(args.path)
    if path.suffix in (".yaml", ".yml") and _is_scenario(path):
        sf = load_scenario(path)
        ds = load_twin(sf.twin_source(), sf.folder)
    else:
        ds = load_twin(path)
    from twin.build.report import build_info, describe_info
    info = summarize(ds) | build_info(path)
    if args.json:
        _emit_json(info)
        return EXIT_OK
    ny, nx = info["shape"]
    w, s, e, n = info["bounds_m"]
    lo, hi = info["elevation_range_m"]
    shares = ", ".join(f"{k} {100 * v:.1f} %" for k, v in info["landcover_shares"].items() if v > 0)
    _say(args,
         f"twin           {info['name']}",
         f"grid           {ny} x {nx} cells (rows x cols), {info['cells_in_domain']} in the domain",
         f"cell size      {info['cell_size_m']:g} m",
         f"CRS            {info['crs']}",
         f"extent         x {w:.1f} .. {e:.1f} m, y {s:.1f} .. {n:.1f} m "
         f"({(e - w) / 1000:.2f} x {(n - s) / 1000:.2f} km)",
         f"elevation      {lo:.1f} .. {hi:.1f} m",
         f"buildings      {info['buildings']}",
         f"land cover     {shares}",
         f"memory         {info['memory_bytes'] / 2**20:.1f} MiB twin; about "
         f"{info['run_memory_estimate_bytes'] / 2**20:.0f} MiB with one flood run",
         *describe_info(info).splitlines())
    return EXIT_OK


def _cmd_build(args) -> int:
    from twin.build.build import build_twin

    report = build_twin(args.config, args.out, force=args.force)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    _say(args, *report.text().splitlines(), f"wrote {report.out}/twin.yaml")
    return EXIT_OK


def _is_scenario(path: Path) -> bool:
    from twin.core.yamlio import load_yaml_with_lines

    data, _ = load_yaml_with_lines(path)
    return isinstance(data, dict) and "hazard" in data


def _cmd_sample_city(args) -> int:
    from twin.samples.city import generate_sample_city, write_sample_city

    city = generate_sample_city(size_m=args.size_m, cell=args.cell, seed=args.seed)
    out = write_sample_city(city, args.out)
    _say(args, f"wrote {out / 'twin.yaml'} ({city.elevation.shape[0]} x {city.elevation.shape[1]} cells)")
    return EXIT_OK


def _until(args) -> float | None:
    """``--until`` in seconds (None when not given)."""
    from twin.scenario.units import parse_duration

    if args.until is None:
        return None
    try:
        return parse_duration(args.until)
    except ValueError as exc:
        raise InputError(str(exc), field="--until", found=args.until) from None


def _error_data(exc: InputError) -> dict:
    """An input error's parts, for ``--json``."""
    return {"message": exc.message, "file": exc.file, "field": exc.field, "line": exc.line,
            "expected": exc.expected, "found": exc.found, "text": str(exc)}


def _cmd_validate(args) -> int:
    from twin.pipeline.validate import validate_scenario

    try:
        validation = validate_scenario(args.scenario, until=_until(args), out=args.out)
    except InputError as exc:
        if args.json:
            _emit_json({"scenario": args.scenario, "valid": False, "error": _error_data(exc)})
        raise
    if args.json:
        _emit_json(validation.as_dict())
        return EXIT_OK
    width = max(len(c.name) for c in validation.checks)
    _say(args, f"{args.scenario}: valid; checked:",
         *(f"  {c.name:<{width}}  {c.detail}" for c in validation.checks))
    return EXIT_OK


def _render_into(folder: Path, sf) -> None:
    """Render the run's products (the scenario's ``render:`` block) into its folder."""
    from viz.products import render_products

    render_products(folder, sf.scenario.render, scenario_file=sf.path)


def _report_into(folder: Path, manifest: dict) -> None:
    """Write the run report (``report.html``) into the run folder."""
    from viz.report import write_report

    write_report(folder, manifest=manifest)


def _cmd_run(args) -> int:
    from twin.pipeline.report import report_lines, run_report
    from twin.pipeline.run import run_scenario

    until = _until(args)
    _check_cluster_options(args)
    run_dir = run_scenario(args.scenario, out=args.out, progress=not args.quiet, until=until,
                           extra_outputs=None if args.no_render else _render_into,
                           scheduler=args.scheduler, workers=args.workers, force=args.force,
                           dashboard=args.dashboard, report=_report_into)
    report = run_report(os.path.normpath(run_dir))
    if args.json:
        _emit_json(report)
    else:
        _say(args, *report_lines(report))
    return EXIT_OK


def _check_cluster_options(args) -> None:
    """``--workers`` and ``--scheduler`` checked before anything is read or run."""
    from twin.scenario.schema import scheduler_address

    if args.workers is not None and not 1 <= args.workers <= 1024:
        raise InputError("--workers must be between 1 and 1024", found=str(args.workers))
    if args.scheduler is not None:
        try:
            scheduler_address(args.scheduler)
        except ValueError as exc:
            raise InputError(str(exc), field="--scheduler", found=args.scheduler) from None


def _cmd_render(args) -> int:
    from viz.camera import Camera
    from viz.render_run import render_run

    view = args.view
    if args.camera is not None:
        try:
            values = [float(v) for v in args.camera.split(",")]
        except ValueError:
            values = []
        if len(values) != 9:
            raise InputError("--camera takes 9 numbers: position x,y,z, focal point x,y,z, up x,y,z",
                             found=args.camera)
        view = Camera(tuple(values[:3]), tuple(values[3:6]), tuple(values[6:]))
    out = render_run(args.run_dir, args.out, view=view, layer=args.layer, size=(args.width, args.height),
                     exaggeration=args.exaggeration, time=args.time)
    _say(args, f"wrote {out}")
    return EXIT_OK


def _cmd_batch(args) -> int:
    from twin.pipeline.batch import run_batch

    _check_cluster_options(args)
    return run_batch(args.forecast, args.scenarios, args.out, issued=args.issued, variable=args.variable,
                     scheduler=args.scheduler, workers=args.workers, force=args.force,
                     alert_probability=args.alert_probability, dashboard=args.dashboard,
                     extra_outputs=None if args.no_render else _render_into, report=_report_into)


def _cmd_sample_forecast(args) -> int:
    from twin.samples.forecast import district_bounds_lonlat, write_sample_forecast

    bounds = district_bounds_lonlat(args.twin) if args.twin else None
    out = write_sample_forecast(args.out, bounds, members=args.members, hours=args.hours, seed=args.seed,
                                start=args.start)
    _say(args, f"wrote {out} ({args.members} members, {args.hours} h from {args.start} UTC)")
    return EXIT_OK


def _common_options() -> argparse.ArgumentParser:
    """The options every subcommand takes: verbosity, the log file, tracebacks."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("console and logs")
    loudness = group.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="count", default=0,
                          help="more on the console: DEBUG log lines on stderr (default: INFO)")
    loudness.add_argument("-q", "--quiet", action="store_true",
                          help="nothing on the console but errors: no progress bars, no log lines, no report "
                               "(--json output is still printed)")
    group.add_argument("--log-file", metavar="PATH",
                       help="append every log record (DEBUG and up) to PATH as JSON lines: time, level, "
                            "event, message and the event's fields")
    group.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    return common


def _json_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true",
                        help=f"print {what} as JSON on stdout, and nothing else there")


def _until_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--until", metavar="DURATION",
                        help="stop at this simulated time, e.g. '20 min' (a quick look); at most the scenario's "
                             "duration; the run's status is then 'truncated'")


DASHBOARD_HELP = "serve dask's dashboard of the members' cluster on 127.0.0.1:8787 (needs bokeh)"


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``twin run`` (also ``run_scenario.py``'s)."""
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--out", metavar="DIR", help="run folder (default: the scenario's output.dir)")
    _until_option(parser)
    parser.add_argument("--no-render", action="store_true", help="skip the renderings of the render: block")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes of the local dask cluster (default: one per core)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="address of an existing dask scheduler, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--dashboard", action="store_true", help=DASHBOARD_HELP)
    parser.add_argument("--force", action="store_true",
                        help="replace the run folder even if it is not a run folder of this project "
                             "(its files are deleted; never a folder holding the scenario or the twin)")
    _json_option(parser, "the run's folder, status, products and summary")


def _cmd_compare(args) -> int:
    """``twin compare``: the baseline and each strategy, and the comparison folder (twin/adaptation/compare.py)."""
    from twin.adaptation.compare import compare

    _check_cluster_options(args)
    stills = None
    if not args.no_render:
        from viz.comparison import write_comparison_report as stills
    folder = compare(args.scenario, args.strategy, args.out, until=_until(args), progress=not args.quiet,
                     extra_outputs=None, stills=stills, scheduler=args.scheduler, workers=args.workers,
                     force=args.force)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    if args.json:
        _emit_json(summary)
        return EXIT_OK
    _say(args, f"comparison of {summary['scenario']} written to {os.path.normpath(folder)}")
    for st in summary["strategies"]:
        econ = st["economics"]
        bcr = econ.get("benefit_cost_ratio")
        _say(args, f"  {st['strategy']}: avoided {st['loss_column']} {st['avoided_loss_krw']:,.0f} KRW "
                   f"(baseline {st['baseline_loss_krw']:,.0f}), cost {st['cost_krw']:,.0f} KRW, "
                   f"{st['buildings']['gains']} buildings gain, {st['buildings']['loses']} lose, "
                   f"{st['cells']['cells_newly_reached']} cells newly reached, "
                   f"{st['cells']['cells_newly_spared']} spared"
                   + (f"; benefit-cost ratio {bcr:.2f}" if bcr is not None else ""))
    return EXIT_OK


def _add_compare_parser(sub, common: argparse.ArgumentParser) -> None:
    """``twin compare SCENARIO --strategy S [--strategy ...] --out DIR``."""
    p = _subcommand(sub, common, "compare", "run a scenario as the baseline and with each adaptation strategy, and "
                    "compare them (difference maps, avoided loss, benefit-cost ratio; docs/adaptation.md)",
                    "  twin compare scenarios/sample_river_flood.yaml --strategy strategies/riverside_wall.yaml "
                    "--out runs/wall", _cmd_compare)
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--strategy", action="append", required=True, metavar="FILE",
                   help="strategy YAML file (repeat for several)")
    p.add_argument("--out", required=True, metavar="DIR", help="the comparison folder")
    _until_option(p)
    p.add_argument("--no-render", action="store_true", help="skip the comparison's stills and report")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes of the local dask cluster")
    p.add_argument("--scheduler", metavar="ADDRESS", help="address of an existing dask scheduler")
    p.add_argument("--force", action="store_true",
                   help="replace the folder even if it is not a folder of this project")
    _json_option(p, "the comparison's summary")


def _today_00z() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT00:00")


def _subcommand(sub, common: argparse.ArgumentParser, name: str, summary: str, example: str, func):
    """A subcommand's parser: its summary, the common options, and an example in its ``--help``."""
    parser = sub.add_parser(name, help=summary, description=summary, parents=[common],
                            epilog=f"example:\n{example}", formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=func)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``twin`` argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="twin", description="City digital twin for disaster prediction.",
        epilog="exit codes: 0 ok, 2 bad input (one line on stderr), 1 run failure.\n"
               "example:\n  twin run scenarios/sample_flash_flood.yaml --until 20min --no-render",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version of city-twin and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options()

    p = _subcommand(sub, common, "info", "summarize a twin (twin.yaml, twin .nc) or a scenario's twin",
                    "  twin info data/sample_city/twin.yaml\n  twin info --json scenarios/sample_flash_flood.yaml",
                    _cmd_info)
    p.add_argument("path", help="twin.yaml, a twin netCDF, or a scenario YAML (its twin is summarized)")
    _json_option(p, "the summary")

    p = _subcommand(sub, common, "sample-city", "generate a Daejeon-like sample district",
                    "  twin sample-city --size-m 10000 --cell 2 --out data/big_city", _cmd_sample_city)
    p.add_argument("--size-m", type=float, default=2500.0, help="side length in m (default 2500)")
    p.add_argument("--cell", type=float, default=5.0, help="cell size in m (default 5)")
    p.add_argument("--seed", type=int, default=20261125, help="seed of the random terrain and buildings "
                                                              "(default 20261125, the shipped district)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")

    p = _subcommand(sub, common, "validate",
                    "check a scenario as a run would (schema, twin, positions, forcing, budget, members, "
                    "run folder) without running; lists what it checked",
                    "  twin validate scenarios/sample_flash_flood.yaml\n"
                    "  twin validate --json --until 20min scenarios/sample_flash_flood.yaml", _cmd_validate)
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--out", metavar="DIR", help="run folder to check (default: the scenario's output.dir)")
    _until_option(p)
    _json_option(p, "the checks (or the error)")

    p = _subcommand(sub, common, "run", "run a scenario into a run folder",
                    "  twin run scenarios/sample_flash_flood.yaml --out runs/flash --until 20min --no-render\n"
                    "  twin run scenarios/sample_urban_fire.yaml --json -q > report.json", _cmd_run)
    add_run_arguments(p)

    p = _subcommand(sub, common, "batch", "nightly forecast batch: every scenario of a folder, dated outputs",
                    "  twin batch --forecast forecast.nc --scenarios scenarios/nightly --out runs/", _cmd_batch)
    p.add_argument("--forecast", required=True, metavar="FILE", help="gridded rainfall forecast (netCDF)")
    p.add_argument("--scenarios", required=True, metavar="DIR", help="folder of scenario YAML files")
    p.add_argument("--out", required=True, metavar="DIR", help="root of the dated output folders")
    p.add_argument("--issued", help="forecast issue label, e.g. 2026-11-25T00Z (default: the forecast's start)")
    p.add_argument("--variable", default="rainfall", help="rainfall variable of the forecast (default rainfall)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="address of an existing dask scheduler")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes of the local dask cluster")
    p.add_argument("--dashboard", action="store_true", help=DASHBOARD_HELP)
    p.add_argument("--force", action="store_true",
                   help="redo scenarios that are complete, and write into (and replace run folders in) a "
                        "folder that is not a batch folder of this project")
    p.add_argument("--alert-probability", type=float, default=0.5, metavar="P",
                   help="alert on buildings whose probability of a depth above 0.5 m exceeds this (default 0.5)")
    p.add_argument("--no-render", action="store_true", help="skip the renderings")

    p = _subcommand(sub, common, "build", "build a twin from DEM tiles, building footprints, land cover, roads and "
                    "rivers (docs/build.md)",
                    "  twin build docs/build_example/build.yaml --out my_city", _cmd_build)
    p.add_argument("config", help="build YAML file")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="the twin's folder (written whole; replaces only an empty folder or a twin built here)")
    p.add_argument("--force", action="store_true",
                   help="replace the folder even if it is not a twin built here (never one holding an input)")

    p = _subcommand(sub, common, "sample-forecast", "write a sample rainfall ensemble over the sample district",
                    "  twin sample-forecast --out forecast.nc --members 10 --hours 24", _cmd_sample_forecast)
    p.add_argument("--out", required=True, metavar="FILE", help="output netCDF file")
    p.add_argument("--members", type=int, default=10, help="forecast members (default 10)")
    p.add_argument("--hours", type=int, default=24, help="hours of forecast (default 24)")
    p.add_argument("--seed", type=int, default=20250715, help="seed of the random rain cells (default 20250715)")
    p.add_argument("--start", default=_today_00z(), help="start of the forecast, ISO 8601 UTC (default: today 00:00)")
    p.add_argument("--twin", metavar="TWIN_YAML", help="twin.yaml of the district to cover (default: the sample city)")

    p = _subcommand(sub, common, "render", "render a run folder: PNG still, GIF/MP4 animation, HTML, glTF, VTM",
                    "  twin render runs/sample-flash-flood --view ne --layer flood_probability\n"
                    "  twin render runs/sample-flash-flood --out flood.gif", _cmd_render)
    p.add_argument("run_dir", help="a run folder (holding twin.nc and hazard.nc)")
    p.add_argument("--out", metavar="FILE",
                   help="output file; its suffix picks the product (default: a PNG in the run folder)")
    p.add_argument("--view", default="sw", choices=["n", "ne", "e", "se", "s", "sw", "w", "nw", "top"],
                   help="camera direction (default sw)")
    p.add_argument("--camera", help="custom camera: px,py,pz,fx,fy,fz,ux,uy,uz (local metres)")
    p.add_argument("--layer", help="max_depth, flood_probability, burn_probability, damage, arrival_time, …")
    p.add_argument("--time", type=float, help="snapshot time (s) for a snapshot layer")
    p.add_argument("--width", type=int, default=1920, help="image width in pixels (default 1920)")
    p.add_argument("--height", type=int, default=1080, help="image height in pixels (default 1080)")
    p.add_argument("--exaggeration", type=float, default=1.0, help="vertical exaggeration (default 1)")
    _add_compare_parser(sub, common)
    from viz.report.cli import add_parser as add_report_parser  # `twin report`: viz/report/cli.py
    add_report_parser(sub, common)
    return parser


class Terminated(BaseException):
    """SIGTERM received: unwinds like KeyboardInterrupt, so staging folders are removed."""


def _raise_terminated(signum, frame):
    raise Terminated()


def _stdout_closed() -> int:
    """End quietly once stdout's reader has gone: stdout is pointed at /dev/null, so that the
    interpreter's last flush cannot fail either; exit code 0."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a file (captured in-process)
        pass
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        finally:  # --help and --version print before argparse exits
            sys.stdout.flush()
    except BrokenPipeError:
        return _stdout_closed()
    if threading.current_thread() is not threading.main_thread():
        return _dispatch(args)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return _dispatch(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dispatch(args) -> int:
    """Run the subcommand with the command line's logging (:func:`twin.io.runlog.cli_logging`)."""
    try:
        with cli_logging(args.verbose, args.quiet, args.log_file):
            return _run_command(args)
    except InputError as exc:  # the log file cannot be written
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _fail(code: int, text: str) -> int:
    """Report a failure: ``text`` on stderr, and as an ``exit`` record in ``--log-file``."""
    print(text, file=sys.stderr)
    LOGGER.error(text, extra={"event": "exit", "fields": {"exit_code": code}, "console": False})
    return code


def _run_command(args) -> int:
    """Run the subcommand; every exception becomes a one-line message and an exit code."""
    try:
        return args.func(args)
    except StdoutClosed:
        return _stdout_closed()
    except InputError as exc:
        return _fail(EXIT_BAD_INPUT, f"error: {exc}")
    except RunError as exc:
        return _fail(EXIT_RUN_FAILURE, f"run failed: {exc}")
    except (KeyboardInterrupt, Terminated) as exc:
        what = "terminated" if isinstance(exc, Terminated) else "interrupted"
        return _fail(EXIT_RUN_FAILURE, f"{what}; no partial outputs were kept")
    except OSError as exc:  # e.g. the disk filled up while writing
        if args.debug:
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        return _fail(EXIT_RUN_FAILURE, f"run failed: {exc.strerror or exc}{where}; no partial outputs were kept")
    except Exception as exc:  # an unexpected failure is a run failure, not a traceback dump
        if args.debug:
            raise
        return _fail(EXIT_RUN_FAILURE, f"run failed (unexpected {type(exc).__name__}): {exc}; rerun with --debug "
                                       "for the traceback")


if __name__ == "__main__":
    sys.exit(main())
