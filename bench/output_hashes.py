"""Hashes of every output number of every shipped scenario: the bit-for-bit check of a refactor.

Runs each scenario of ``scenarios/`` with a short ``--until`` into a
scratch folder and prints, as JSON, a SHA-256 per data variable of every netCDF (values and
dtype; attributes that record times or versions left out), per band of every GeoTIFF and per CSV
file. Two commits give identical output when, and only when, the printed JSON files are equal:

    python bench/output_hashes.py --out /tmp/hashes_before.json
    (change the code)
    python bench/output_hashes.py --out /tmp/hashes_after.json
    diff /tmp/hashes_before.json /tmp/hashes_after.json && echo identical

Runs go through ``twin.cli.main`` (the command line) without renderings, on a local cluster of
``--workers`` processes for the ensemble scenarios.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import rasterio
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
#: Simulated time of each run (s): long enough for water or fire to reach buildings.
UNTIL = {"sample_long_rain": "30 min", "sample_wildland_fire": "30 min", "sample_urban_fire": "30 min"}
DEFAULT_UNTIL = "20 min"


def _digest(array: np.ndarray) -> str:
    array = np.ascontiguousarray(array)
    return hashlib.sha256(array.dtype.str.encode() + str(array.shape).encode() + array.tobytes()).hexdigest()


def netcdf_hashes(path: Path) -> dict[str, str]:
    """SHA-256 of each variable's values (and coordinates) of a netCDF file."""
    with xr.open_dataset(path, decode_times=False, mask_and_scale=False) as ds:
        return {name: _digest(ds[name].values) for name in sorted(ds.variables)}


def geotiff_hashes(path: Path) -> dict[str, str]:
    """SHA-256 of each band of a GeoTIFF."""
    with rasterio.open(path) as src:
        return {f"band{b}": _digest(src.read(b)) for b in range(1, src.count + 1)}


def run_folder_hashes(folder: Path) -> dict[str, object]:
    """Hashes of every netCDF, GeoTIFF and CSV in a run folder, by file name."""
    out: dict[str, object] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".nc":
            out[path.name] = netcdf_hashes(path)
        elif path.suffix == ".tif":
            out[path.name] = geotiff_hashes(path)
        elif path.suffix == ".csv":
            out[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file of the hashes")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    from twin.cli import main as twin_main

    scenarios = sorted((ROOT / "scenarios").glob("*.yaml"))
    hashes = {}
    with tempfile.TemporaryDirectory() as scratch:
        for path in scenarios:
            run_dir = Path(scratch) / path.stem
            until = UNTIL.get(path.stem, DEFAULT_UNTIL)
            code = twin_main(["run", str(path), "--out", str(run_dir), "--until", until, "--no-render", "--quiet",
                              "--workers", str(args.workers)])
            if code != 0:
                print(f"{path.name}: exit {code}", file=sys.stderr)
                return code
            hashes[path.stem] = {"until": until, "files": run_folder_hashes(run_dir)}
            print(f"{path.stem}: {len(hashes[path.stem]['files'])} files hashed", file=sys.stderr)
    Path(args.out).write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
