"""Benchmark: a 1000 x 1000 city with 10 000 buildings rendered to a 1920 x 1080 PNG.

Prints the wall time (s) of building the meshes alone (terrain, one merged building mesh, water),
of assembling the scene (which builds them again, computes normals and adds them to the plotter),
and of rendering the still, and the process's peak resident memory (MiB).

    python bench/render.py [--cells 1000] [--blocks 100] [--out /tmp/bench_render.png]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pyvista as pv
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from viz.buildings import building_mesh  # noqa: E402
from viz.meshes import terrain_mesh, water_mesh  # noqa: E402
from viz.run_data import Layer  # noqa: E402
from viz.scene import CityScene  # noqa: E402

pv.OFF_SCREEN = True


def synthetic_city(cells: int, blocks: int, dx: float = 2.0, seed: int = 0) -> tuple[xr.Dataset, np.ndarray]:
    """A hilly square city of ``blocks`` x ``blocks`` buildings and a flooded river (depth, m)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:cells, 0:cells] * dx
    size = cells * dx
    elevation = (20.0 + 8.0 * np.sin(2 * np.pi * xx / size) * np.cos(2 * np.pi * yy / size)
                 + 0.01 * yy)
    block = cells // blocks
    side = rng.integers(3, block - 2, size=(blocks, blocks))           # footprint side (cells)
    r_in, c_in = np.mgrid[0:cells, 0:cells] % block
    br, bc = np.mgrid[0:cells, 0:cells] // block
    br, bc = np.minimum(br, blocks - 1), np.minimum(bc, blocks - 1)
    inside = (r_in >= 1) & (c_in >= 1) & (r_in <= side[br, bc]) & (c_in <= side[br, bc])
    building_id = np.where(inside, br * blocks + bc + 1, 0).astype(np.int32)
    heights = rng.uniform(6.0, 60.0, size=blocks * blocks + 1)
    river = np.abs(yy - size / 2 - 0.1 * size * np.sin(2 * np.pi * xx / size)) < 0.04 * size
    depth = np.where(river & (building_id == 0), 1.5, 0.0)
    twin = xr.Dataset(
        {"elevation": (("y", "x"), elevation),
         "building_height": (("y", "x"), np.where(inside, heights[building_id], 0.0)),
         "building_id": (("y", "x"), building_id),
         "landcover": (("y", "x"), np.where(inside, 3, np.where(river, 1, 4)).astype(np.int8))},
        coords={"x": 300_000.0 + (np.arange(cells) + 0.5) * dx,
                "y": 4_000_000.0 + (cells - np.arange(cells) - 0.5) * dx},
        attrs={"cell_size": dx})
    return twin, depth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1000, help="grid side (cells)")
    parser.add_argument("--blocks", type=int, default=100, help="buildings per side")
    parser.add_argument("--out", default="/tmp/bench_render.png")
    args = parser.parse_args()
    twin, depth = synthetic_city(args.cells, args.blocks)
    n_buildings = len(np.unique(twin.building_id.values)) - 1

    values = {i: (i % 97) / 96 for i in range(1, n_buildings + 1)}
    tm = time.perf_counter()
    terrain_mesh(twin), building_mesh(twin, values), water_mesh(twin, depth)
    t0 = time.perf_counter()
    scene = CityScene(twin, size=(1920, 1080), exaggeration=1.0,
                      building_values=values,
                      building_label="expected damage fraction (1)")
    scene.show_layer(Layer("max_depth", depth, "m", "max depth (m)", water=True))
    scene.set_title(f"benchmark, {args.cells} x {args.cells} cells, {n_buildings} buildings")
    scene.set_view("sw")
    t1 = time.perf_counter()
    scene.plotter.screenshot(args.out)
    t2 = time.perf_counter()
    scene.close()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"grid {args.cells} x {args.cells}, {n_buildings} buildings, "
          f"{scene.buildings.n_cells} building faces, {scene.terrain.n_cells} terrain quads")
    print(f"mesh building alone:            {t0 - tm:.2f} s")
    print(f"scene assembly (meshes, add):   {t1 - t0:.2f} s")
    print(f"render 1920x1080 PNG:           {t2 - t1:.2f} s")
    print(f"still (assembly + render):      {t2 - t0:.2f} s")
    print(f"peak resident memory:           {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
