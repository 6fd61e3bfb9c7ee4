"""Sample city streets: the grid of local roads and arterials, and the underpasses cut into it.

See :mod:`twin.samples.city` for the design; lengths in metres, positions in cells.
"""

from __future__ import annotations

import numpy as np

_ARTERIAL_WIDTH = 40.0           # m
_LOCAL_WIDTHS = (10.0, 12.0, 15.0, 20.0, 25.0)   # m
_BLOCK_LENGTH = (90.0, 180.0)    # m
_ARTERIAL_EVERY = 4              # every n-th road line is an arterial


def _road_lines(rng: np.random.Generator, n: int, cell: float) -> np.ndarray:
    """Road lines across one axis: rows of ``(first cell, end cell, arterial)``."""
    lines = []
    offset = rng.integers(_ARTERIAL_EVERY)
    pos = rng.uniform(20.0, 80.0)
    k = 0
    while pos < n * cell:
        arterial = k % _ARTERIAL_EVERY == offset
        w = _ARTERIAL_WIDTH if arterial else float(rng.choice(_LOCAL_WIDTHS))
        c0 = int(round(pos / cell))
        c1 = min(n, max(c0 + 1, int(round((pos + w) / cell))))
        if c0 < n:
            lines.append((c0, c1, int(arterial)))
        pos += w + rng.uniform(*_BLOCK_LENGTH)
        k += 1
    return np.array(lines, dtype=np.int64).reshape(-1, 3)


def _line_mask(lines: np.ndarray, n: int, arterial_only: bool = False) -> np.ndarray:
    """1-D boolean mask of the cells covered by road lines."""
    mask = np.zeros(n, dtype=bool)
    for c0, c1, art in lines:
        if art or not arterial_only:
            mask[c0:c1] = True
    return mask


def block_intervals(lines: np.ndarray, n: int) -> np.ndarray:
    """The gaps between road lines (blocks along one axis): rows of ``(first, end)`` cells."""
    edges = np.concatenate([[0], lines[:, :2].ravel(), [n]]).reshape(-1, 2)
    return edges[edges[:, 1] > edges[:, 0]]


def street_grid(rng: np.random.Generator, terrain: dict, cell: float) -> dict:
    """Street grid: road lines of both axes and the 2-D road mask (no parks cut yet).

    Returns
    -------
    dict
        ``rows`` and ``cols``: the road lines along each axis, rows of ``(first cell, end cell,
        arterial)``; ``road``: boolean ``(ny, nx)`` road mask on urban land (only east-west
        arterials cross the riverside park); ``arterial``: boolean mask of the arterial lines
        over the whole grid.
    """
    ny, nx = terrain["z"].shape
    rows, cols = _road_lines(rng, ny, cell), _road_lines(rng, nx, cell)
    line = _line_mask(rows, ny)[:, None] | _line_mask(cols, nx)[None, :]
    arterial = _line_mask(rows, ny, True)[:, None] | _line_mask(cols, nx, True)[None, :]
    # only east-west arterials cross the riverside park (to bridges, not represented)
    bridge_approach = _line_mask(rows, ny, True)[:, None]
    road = line & terrain["urban"] & (~terrain["riverside"] | bridge_approach)
    return dict(rows=rows, cols=cols, road=road, arterial=arterial)


def cut_underpasses(rng: np.random.Generator, z: np.ndarray, terrain: dict, roads: dict,
                    cell: float) -> None:
    """Cut road-width underpasses into ``z`` (in place) where arterials cross other roads.

    Each is a cosine-shaped dip 120-180 m long along the arterial whose floor lies 2.2-3.8 m
    below the lowest ground around it (the level at which it spills), kept only where its floor
    stays at least 0.3 m above the river's bank-cell bed in the same rows, so the river remains
    the lowest land of every row. ``terrain`` is :func:`twin.samples.terrain.make_terrain`'s
    and ``roads`` :func:`street_grid`'s, its ``road`` mask without the park streets
    (:func:`twin.samples.buildings.lay_out_blocks` removes them).
    """
    ny, nx = z.shape
    n_wanted = max(2, int(round(3 * (nx * cell / 2500.0) ** 2)))
    road = roads["road"]
    candidates = []      # (along rows?, arterial line, crossing line)
    for along_rows, own, other in ((True, roads["cols"], roads["rows"]),
                                   (False, roads["rows"], roads["cols"])):
        for a in own[own[:, 2] == 1]:
            for b in other:
                candidates.append((along_rows, a, b))
    placed = np.zeros_like(road)
    for p in rng.permutation(len(candidates)):
        along_rows, (a0, a1, _), (b0, b1, _) = candidates[p]
        half = int(round(rng.uniform(60.0, 90.0) / cell))
        mid = (b0 + b1) // 2
        s0, s1 = max(0, mid - half), min(ny if along_rows else nx, mid + half + 1)
        win = (slice(s0, s1), slice(a0, a1)) if along_rows else (slice(a0, a1), slice(s0, s1))
        on_road = road[win]
        centre = (mid, (a0 + a1) // 2) if along_rows else ((a0 + a1) // 2, mid)
        if (placed[max(0, win[0].start - 2):win[0].stop + 2,
                   max(0, win[1].start - 2):win[1].stop + 2].any()
                or not on_road.all() or terrain["d"][centre] < 150.0):
            continue
        t = (np.arange(s0, s1) - mid) / half
        shape = 0.5 * (1.0 + np.cos(np.pi * np.clip(t, -1.0, 1.0)))
        ring = z[max(0, win[0].start - 1):win[0].stop + 1,
                 max(0, win[1].start - 1):win[1].stop + 1]
        floor = z[(mid, win[1]) if along_rows else (win[0], mid)].min()
        cut = rng.uniform(2.2, 3.8) + floor - ring.min()
        dip = cut * (shape[:, None] if along_rows else shape[None, :])
        bank = terrain["bank_z"][win[0]][:, None]
        if np.any(z[win] - dip <= bank + 0.3):
            continue
        z[win] -= dip
        placed[win] = True
        n_wanted -= 1
        if n_wanted == 0:
            break
