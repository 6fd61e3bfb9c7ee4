"""Time of reading one ensemble member's gridded rainfall onto the sample city's twin grid.

Writes the sample forecast (:func:`twin.samples.forecast.write_sample_forecast`: 10 members,
24 hourly intervals, 0.01 deg on EPSG:4326, as the nightly batch reads it) into a scratch
folder, then times ``read_gridded_rainfall(file, "rainfall", grid, member=k)`` for each member
``k`` in turn, in one process, as a forecast batch reads its members. The first read builds the
conservative remap onto the twin grid; with the remap cached the later ones reuse it.

Usage::

    python bench/rainfall_read.py                 # members 0..3
    python bench/rainfall_read.py --members 10 --repeat 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from twin.core.citytwin import load_twin, twin_grid
from twin.io.rainfall import read_gridded_rainfall
from twin.samples.forecast import SAMPLE_TWIN, write_sample_forecast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=4, help="members read, 0..N-1 (at most 10)")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the members, each printed")
    args = parser.parse_args()
    grid = twin_grid(load_twin(SAMPLE_TWIN))
    with tempfile.TemporaryDirectory() as scratch:
        file = write_sample_forecast(Path(scratch) / "forecast.nc")
        print(f"twin grid {grid.shape[0]} x {grid.shape[1]} cells of {grid.cell_size:g} m; {file.name}")
        for r in range(args.repeat):
            times = []
            for k in range(args.members):
                t0 = time.perf_counter()
                read_gridded_rainfall(file, "rainfall", grid, member=k)
                times.append(time.perf_counter() - t0)
            print(f"pass {r}: " + ", ".join(f"member {k} {t:.3f} s" for k, t in enumerate(times)))


if __name__ == "__main__":
    main()
