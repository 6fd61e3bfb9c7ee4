"""The ``twin`` command line: argument parsing only; the work is done in the packages.

Exit codes: 0 ok, 2 bad input (one-line message on stderr), 1 run failure.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from twin.core.errors import InputError, RunError

EXIT_OK, EXIT_RUN_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


def _cmd_info(args) -> int:
    from twin.core.citytwin import load_twin, summarize
    from twin.hazards.registry import load_scenario

    path = Path(args.path)
    if path.suffix in (".yaml", ".yml") and _is_scenario(path):
        sf = load_scenario(path)
        ds = load_twin(sf.twin_source(), sf.folder)
    else:
        ds = load_twin(path)
    info = summarize(ds)
    if args.json:
        print(json.dumps(info, indent=2))
        return EXIT_OK
    ny, nx = info["shape"]
    w, s, e, n = info["bounds_m"]
    print(f"twin           {info['name']}")
    print(f"grid           {ny} x {nx} cells (rows x cols), {info['cells_in_domain']} in the domain")
    print(f"cell size      {info['cell_size_m']:g} m")
    print(f"CRS            {info['crs']}")
    print(f"extent         x {w:.1f} .. {e:.1f} m, y {s:.1f} .. {n:.1f} m ({(e - w) / 1000:.2f} x {(n - s) / 1000:.2f} km)")
    lo, hi = info["elevation_range_m"]
    print(f"elevation      {lo:.1f} .. {hi:.1f} m")
    print(f"buildings      {info['buildings']}")
    shares = ", ".join(f"{k} {100 * v:.1f} %" for k, v in info["landcover_shares"].items() if v > 0)
    print(f"land cover     {shares}")
    print(f"memory         {info['memory_bytes'] / 2**20:.1f} MiB twin; about "
          f"{info['run_memory_estimate_bytes'] / 2**20:.0f} MiB with one flood run")
    return EXIT_OK


def _is_scenario(path: Path) -> bool:
    from twin.core.yamlio import load_yaml_with_lines

    data, _ = load_yaml_with_lines(path)
    return isinstance(data, dict) and "hazard" in data


def _cmd_sample_city(args) -> int:
    from twin.samples.city import generate_sample_city, write_sample_city

    city = generate_sample_city(size_m=args.size_m, cell=args.cell, seed=args.seed)
    out = write_sample_city(city, args.out)
    print(f"wrote {out / 'twin.yaml'} ({city.elevation.shape[0]} x {city.elevation.shape[1]} cells)")
    return EXIT_OK


def _cmd_validate(args) -> int:
    from twin.ensemble.draws import member_draws
    from twin.io.run_folders import check_output_folder
    from twin.core.citytwin import twin_grid
    from twin.pipeline.budget import estimate_run
    from twin.pipeline.run import load_run_scenario, prepare_run

    prep = prepare_run(load_run_scenario(args.scenario))
    prep.hazard.check_draws(prep.sf, member_draws(prep.sf, prep.twin, prep.hazard))
    check_output_folder(prep.sf.output_dir(), "run", prep.input_files)
    budget = estimate_run(prep.sf, twin_grid(prep.twin))
    print(f"{args.scenario}: valid; {budget.describe()}")
    return EXIT_OK


def _render_into(folder: Path, sf) -> None:
    """Render the run's products (the scenario's ``render:`` block) into its folder."""
    from viz.products import render_products

    render_products(folder, sf.scenario.render)


def _cmd_run(args) -> int:
    from twin.pipeline.run import run_scenario
    from twin.scenario.units import parse_duration

    until = None
    if args.until is not None:
        try:
            until = parse_duration(args.until)
        except ValueError as exc:
            raise InputError(str(exc), field="--until", found=args.until) from None
    _check_cluster_options(args)
    run_dir = run_scenario(args.scenario, out=args.out, progress=not args.quiet, until=until,
                           extra_outputs=None if args.no_render else _render_into,
                           scheduler=args.scheduler, workers=args.workers, force=args.force)
    print(f"run complete: {os.path.normpath(run_dir)}")
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
        values = [float(v) for v in args.camera.split(",")]
        if len(values) != 9:
            raise InputError("--camera takes 9 numbers: position x,y,z, focal point x,y,z, up x,y,z",
                             found=args.camera)
        view = Camera(tuple(values[:3]), tuple(values[3:6]), tuple(values[6:]))
    out = render_run(args.run_dir, args.out, view=view, layer=args.layer, size=(args.width, args.height),
                     exaggeration=args.exaggeration, time=args.time)
    print(f"wrote {out}")
    return EXIT_OK


def _cmd_batch(args) -> int:
    from twin.pipeline.batch import run_batch

    _check_cluster_options(args)
    return run_batch(args.forecast, args.scenarios, args.out, issued=args.issued, variable=args.variable,
                     scheduler=args.scheduler, workers=args.workers, force=args.force,
                     alert_probability=args.alert_probability,
                     extra_outputs=None if args.no_render else _render_into)


def _cmd_sample_forecast(args) -> int:
    from twin.samples.forecast import district_bounds_lonlat, write_sample_forecast

    bounds = district_bounds_lonlat(args.twin) if args.twin else None
    out = write_sample_forecast(args.out, bounds, members=args.members, hours=args.hours, seed=args.seed,
                                start=args.start)
    print(f"wrote {out} ({args.members} members, {args.hours} h from {args.start} UTC)")
    return EXIT_OK


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``twin run`` (shared with ``run_scenario.py``)."""
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--out", help="run folder (default: the scenario's output.dir)")
    parser.add_argument("--until", help="stop at this simulated time, e.g. '20 min' (a quick look)")
    parser.add_argument("--no-render", action="store_true", help="skip the renderings of the render: block")
    parser.add_argument("--workers", type=int, help="worker processes of the local dask cluster (default: one per core)")
    parser.add_argument("--scheduler", help="address of an existing dask scheduler, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--force", action="store_true",
                        help="replace the run folder even if it is not a run folder of this project "
                             "(its files are deleted; never a folder holding the scenario or the twin)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")


def _today_00z() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT00:00")


def build_parser() -> argparse.ArgumentParser:
    """The ``twin`` argument parser with its subcommands."""
    parser = argparse.ArgumentParser(prog="twin", description="City digital twin for disaster prediction.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="summarize a twin (twin.yaml, twin .nc) or a scenario's twin")
    p.add_argument("path")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("sample-city", help="generate a Daejeon-like sample district")
    p.add_argument("--size-m", type=float, default=2500.0, help="side length in m (default 2500)")
    p.add_argument("--cell", type=float, default=5.0, help="cell size in m (default 5)")
    p.add_argument("--seed", type=int, default=20261125)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=_cmd_sample_city)

    p = sub.add_parser("validate", help="check a scenario (schema, twin, gauges, inflows) without running")
    p.add_argument("scenario")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("run", help="run a scenario")
    add_run_arguments(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("batch", help="nightly forecast batch: every scenario of a folder, dated outputs")
    p.add_argument("--forecast", required=True, help="gridded rainfall forecast (netCDF)")
    p.add_argument("--scenarios", required=True, help="folder of scenario YAML files")
    p.add_argument("--out", required=True, help="root of the dated output folders")
    p.add_argument("--issued", help="forecast issue label, e.g. 2026-11-25T00Z (default: the forecast's start)")
    p.add_argument("--variable", default="rainfall", help="rainfall variable of the forecast")
    p.add_argument("--scheduler", help="address of an existing dask scheduler")
    p.add_argument("--workers", type=int, help="worker processes of the local dask cluster")
    p.add_argument("--force", action="store_true",
                   help="redo scenarios that are complete, and write into (and replace run folders in) a "
                        "folder that is not a batch folder of this project")
    p.add_argument("--alert-probability", type=float, default=0.5,
                   help="alert on buildings whose probability of a depth above 0.5 m exceeds this")
    p.add_argument("--no-render", action="store_true", help="skip the renderings")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    p.set_defaults(func=_cmd_batch)

    p = sub.add_parser("sample-forecast", help="write a sample rainfall ensemble over the sample district")
    p.add_argument("--out", required=True, help="output netCDF file")
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--hours", type=int, default=24)
    p.add_argument("--seed", type=int, default=20250715)
    p.add_argument("--start", default=_today_00z(), help="start of the forecast, ISO 8601 UTC (default: today 00:00)")
    p.add_argument("--twin", help="twin.yaml of the district to cover (default: the sample city)")
    p.set_defaults(func=_cmd_sample_forecast)

    p = sub.add_parser("render", help="render a run folder: PNG still, GIF/MP4 animation, HTML, glTF, VTM")
    p.add_argument("run_dir")
    p.add_argument("--out", help="output file; its suffix picks the product (default: a PNG in the run folder)")
    p.add_argument("--view", default="sw", choices=["n", "ne", "e", "se", "s", "sw", "w", "nw", "top"])
    p.add_argument("--camera", help="custom camera: px,py,pz,fx,fy,fz,ux,uy,uz (local metres)")
    p.add_argument("--layer", help="max_depth, flood_probability, burn_probability, damage, arrival_time, …")
    p.add_argument("--time", type=float, help="snapshot time (s) for a snapshot layer")
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--exaggeration", type=float, default=1.0, help="vertical exaggeration")
    p.set_defaults(func=_cmd_render)
    from viz.report.cli import add_parser as add_report_parser  # `twin report`: viz/report/cli.py
    add_report_parser(sub)
    return parser


class Terminated(BaseException):
    """SIGTERM received: unwinds like KeyboardInterrupt, so staging folders are removed."""


def _raise_terminated(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if threading.current_thread() is not threading.main_thread():
        return _dispatch(args)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return _dispatch(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dispatch(args) -> int:
    """Run the subcommand; every exception becomes a one-line message and an exit code."""
    try:
        return args.func(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunError as exc:
        print(f"run failed: {exc}", file=sys.stderr)
        return EXIT_RUN_FAILURE
    except (KeyboardInterrupt, Terminated) as exc:
        what = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"{what}; no partial outputs were kept", file=sys.stderr)
        return EXIT_RUN_FAILURE
    except OSError as exc:  # e.g. the disk filled up while writing
        if getattr(args, "debug", False):
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"run failed: {exc.strerror or exc}{where}; no partial outputs were kept", file=sys.stderr)
        return EXIT_RUN_FAILURE
    except Exception as exc:  # an unexpected failure is a run failure, not a traceback dump
        if getattr(args, "debug", False):
            raise
        print(f"run failed (unexpected {type(exc).__name__}): {exc}; rerun with --debug for the traceback",
              file=sys.stderr)
        return EXIT_RUN_FAILURE


if __name__ == "__main__":
    sys.exit(main())
