"""Fire arrival time: minimum travel time over a 16- or 32-direction stencil (Dijkstra, numba).

Each cell carries a directional *ray* speed profile: the distance a fire started at a point in
that cell would reach in each direction per unit time, in homogeneous conditions. The profile is
an ellipse through three rates measured from the ignition point along the head direction:
forward F, perpendicular (sideways) S and backward B. With semi-axis a = (F + B) / 2 along the
head direction, centre offset c = (F - B) / 2 ahead of the ignition, and the cross semi-axis b
chosen so that the ellipse passes through S on the perpendicular through the ignition,
b = S / sqrt(1 - c^2 / a^2), the ray speed in a direction at angle theta from the head is the
positive root r of ((r cos theta - c) / a)^2 + (r sin theta / b)^2 = 1:

    r(theta) = [u c/a^2 + sqrt((u c/a^2)^2 + D (1 - c^2/a^2))] / D,
    u = cos theta,  D = u^2 / a^2 + (1 - u^2) / b^2.

For a Rothermel fire ellipse with the ignition at the rear focus (F = head, S = head (1 - e),
B = head (1 - e)/(1 + e)) this is exactly R(theta) = head (1 - e) / (1 - e cos theta); for
Hamada's urban spread it is the ellipse-like fit through the downwind, side and upwind speeds.
Because each profile is convex and contains the ignition, straight rays are the fastest paths in
a homogeneous cell and the minimum travel time reproduces the ellipse (Huygens' principle; the
same minimum-travel-time idea as Finney 2002, Can. J. For. Res. 32:1420).

Arrival times are shortest-path times on the graph whose edges join each cell centre to the cell
centres at offsets (dr, dc) with gcd(|dr|, |dc|) = 1 and max(|dr|, |dc|) <= 2 (16 directions,
largest angular gap 26.6 deg) or <= 3 (32 directions, largest gap 18.4 deg). The travel time of
an edge integrates the slowness along the straight segment through every cell it crosses:

    t = L * sum_k (l_k / r_k(theta)),

with l_k the fraction of the segment inside cell k, r_k that cell's ray speed in the edge's
direction theta, and L the edge length (m): horizontal, or along the terrain,
sqrt(L_h^2 + dz^2), when an elevation grid is given (surface rates such as Rothermel's are
measured along the slope). A cell with zero rate blocks every edge that crosses it, and an edge
that passes exactly through a cell corner is blocked when both cells beside that corner have zero
rate, so one-cell-wide firebreaks, diagonal ones included, stop the fire.

Grid convention: arrays are (row, col) with row 0 at the north edge, square cells of dx metres.
Azimuths are radians clockwise from north.
"""

from __future__ import annotations

from math import gcd
from types import MappingProxyType

import numba
import numpy as np

#: Number of directions of the available stencils.
STENCILS = (16, 32)


def _build_stencil(n_directions: int):
    """Edge geometry of a 16- or 32-direction stencil (see :func:`stencil`)."""
    reach = 2 if n_directions == 16 else 3
    offsets = [(dr, dc) for dr in range(-reach, reach + 1) for dc in range(-reach, reach + 1)
               if (dr, dc) != (0, 0) and gcd(abs(dr), abs(dc)) == 1]
    seg_ptr, segs, corner_ptr, corners = [0], [], [0], []
    for dr, dc in offsets:
        # parameters t in (0, 1) where the segment crosses a cell boundary (half-integers)
        cuts = {0.0, 1.0}
        for d in (dr, dc):
            if d != 0:
                for k in range(-abs(d), abs(d) + 1):
                    t = (k + 0.5) / d
                    if 0.0 < t < 1.0:
                        cuts.add(round(t, 12))
        cuts = sorted(cuts)
        for t0, t1 in zip(cuts[:-1], cuts[1:]):
            tm = 0.5 * (t0 + t1)
            segs.append((round(tm * dr), round(tm * dc), t1 - t0))
        for t in cuts[1:-1]:
            y, x = t * dr, t * dc
            if abs(abs(y % 1.0) - 0.5) < 1e-9 and abs(abs(x % 1.0) - 0.5) < 1e-9:
                # corner: cells before and after share it; the two beside it are blocked together
                eps = 1e-6
                r0, c0 = round((t - eps) * dr), round((t - eps) * dc)
                r1, c1 = round((t + eps) * dr), round((t + eps) * dc)
                corners.append((r1, c0, r0, c1))
        seg_ptr.append(len(segs))
        corner_ptr.append(len(corners))
    off = np.array(offsets, dtype=np.int64)
    length = np.hypot(off[:, 0], off[:, 1])
    arrays = {
        "offsets": off,
        "length": length,
        "east": off[:, 1] / length,
        "north": -off[:, 0] / length,
        "seg_ptr": np.array(seg_ptr, dtype=np.int64),
        "seg": np.array(segs, dtype=np.float64).reshape(-1, 3),
        "corner_ptr": np.array(corner_ptr, dtype=np.int64),
        "corner": np.array(corners, dtype=np.int64).reshape(-1, 4),
    }
    for arr in arrays.values():
        arr.setflags(write=False)
    return MappingProxyType(arrays)


_STENCIL_TABLE = {n: _build_stencil(n) for n in STENCILS}


def stencil(n_directions: int = 32):
    """Edge geometry of a 16- or 32-direction stencil (read-only, built once at import).

    Parameters
    ----------
    n_directions : {16, 32}
        Number of edge directions.

    Returns
    -------
    mapping of numpy.ndarray
        ``offsets`` (K, 2) int (dr, dc); ``length`` (K,) in cells; ``east``, ``north`` (K,) unit
        direction components; ``seg_ptr`` (K+1,) and ``seg`` (S, 3) rows (dr, dc, fraction of
        the edge length) of the cells each edge crosses; ``corner_ptr`` (K+1,) and ``corner``
        (C, 4) int rows (dr1, dc1, dr2, dc2) of the cell pairs beside each corner the edge
        passes through.

    Raises
    ------
    ValueError
        If ``n_directions`` is not 16 or 32.
    """
    if n_directions not in STENCILS:
        raise ValueError(f"stencil must have one of {STENCILS} directions, got {n_directions}")
    return _STENCIL_TABLE[n_directions]


def ellipse_rates(head_rate, lb):
    """Forward, side and backward ray speeds (m/s) of a fire ellipse with the ignition at the rear focus.

    F = head, S = head (1 - e), B = head (1 - e) / (1 + e), e = sqrt(LB^2 - 1) / LB
    (Van Wagner 1969; Anderson 1983; Albini & Chase 1980 eq. 8).

    Parameters
    ----------
    head_rate : array_like
        Head-fire rate (m/s).
    lb : array_like
        Length-to-breadth ratio (1), >= 1.

    Returns
    -------
    tuple of numpy.ndarray
        (forward, side, back) in m/s.
    """
    head = np.asarray(head_rate, dtype=np.float64)
    lb = np.maximum(np.asarray(lb, dtype=np.float64), 1.0)
    e = np.sqrt(lb**2 - 1.0) / lb
    return head, head * (1.0 - e), head * (1.0 - e) / (1.0 + e)


def _profile_params(forward, side, back, azimuth):
    """Per-cell (n, 6) array: east, north of the head direction, c/a^2, 1/a^2, 1/b^2, 1 - c^2/a^2."""
    f, s, b = (np.ascontiguousarray(x, dtype=np.float64).ravel() for x in (forward, side, back))
    az = np.ascontiguousarray(azimuth, dtype=np.float64).ravel()
    burn = f > 0.0
    a = 0.5 * (f + b)
    c = 0.5 * (f - b)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(burn, f * b / a**2, 0.0)               # 1 - c^2/a^2 = F B / a^2
        inv_a2 = np.where(burn, 1.0 / a**2, -1.0)           # -1 marks a non-burnable cell
        inv_b2 = np.where(burn, k / s**2, 0.0)              # b^2 = S^2 / (1 - c^2/a^2)
        c_a2 = np.where(burn, c / a**2, 0.0)
    return np.ascontiguousarray(np.stack([np.sin(az), np.cos(az), c_a2, inv_a2, inv_b2, k], axis=1))


@numba.njit(cache=True, inline="always")
def _ray_speed(p, i, ue, un):
    """Ray speed of cell i in unit direction (ue, un); 0 for a non-burnable cell."""
    if p[i, 3] < 0.0:
        return 0.0
    u = ue * p[i, 0] + un * p[i, 1]
    d = u * u * p[i, 3] + (1.0 - u * u) * p[i, 4]
    q = u * p[i, 2]
    return (q + np.sqrt(q * q + d * p[i, 5])) / d


@numba.njit(cache=True)
def _sift_up(heap, pos, key, j):
    node = heap[j]
    k = key[node]
    while j > 0:
        parent = (j - 1) >> 1
        pn = heap[parent]
        if key[pn] <= k:
            break
        heap[j] = pn
        pos[pn] = j
        j = parent
    heap[j] = node
    pos[node] = j


@numba.njit(cache=True)
def _pop(heap, pos, key, size):
    top = heap[0]
    pos[top] = -1
    size -= 1
    if size > 0:
        node = heap[size]
        k = key[node]
        j = 0
        while True:
            child = 2 * j + 1
            if child >= size:
                break
            if child + 1 < size and key[heap[child + 1]] < key[heap[child]]:
                child += 1
            cn = heap[child]
            if key[cn] >= k:
                break
            heap[j] = cn
            pos[cn] = j
            j = child
        heap[j] = node
        pos[node] = j
    return top, size


@numba.njit(cache=True)
def _dijkstra(t, p, z, use_z, ny, nx, dx, t_max, offsets, length, east, north,
              seg_ptr, seg, corner_ptr, corner):
    n = ny * nx
    heap = np.empty(n, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    done = np.zeros(n, dtype=np.bool_)
    size = 0
    for i in range(n):
        if t[i] < np.inf:
            heap[size] = i
            pos[i] = size
            size += 1
            _sift_up(heap, pos, t, size - 1)
    n_dir = offsets.shape[0]
    while size > 0:
        u, size = _pop(heap, pos, t, size)
        tu = t[u]
        if tu > t_max:
            break
        done[u] = True
        r, c = u // nx, u % nx
        for k in range(n_dir):
            rv = r + offsets[k, 0]
            cv = c + offsets[k, 1]
            if rv < 0 or rv >= ny or cv < 0 or cv >= nx:
                continue
            v = rv * nx + cv
            if done[v]:
                continue
            blocked = False
            for m in range(corner_ptr[k], corner_ptr[k + 1]):
                i1 = (r + corner[m, 0]) * nx + c + corner[m, 1]
                i2 = (r + corner[m, 2]) * nx + c + corner[m, 3]
                if p[i1, 3] < 0.0 and p[i2, 3] < 0.0:
                    blocked = True
            if blocked:
                continue
            slowness = 0.0
            for m in range(seg_ptr[k], seg_ptr[k + 1]):
                w = (r + int(seg[m, 0])) * nx + c + int(seg[m, 1])
                rate = _ray_speed(p, w, east[k], north[k])
                if rate <= 0.0:
                    blocked = True
                    break
                slowness += seg[m, 2] / rate
            if blocked:
                continue
            ell = length[k] * dx
            if use_z:
                dz = z[v] - z[u]
                ell = np.sqrt(ell * ell + dz * dz)
            tv = tu + ell * slowness
            if tv < t[v]:
                t[v] = tv
                if pos[v] < 0:
                    heap[size] = v
                    pos[v] = size
                    size += 1
                _sift_up(heap, pos, t, pos[v])
    for i in range(n):
        if not done[i]:
            t[i] = np.inf
    return t


def arrival_time(start_time, forward, side, back, azimuth, dx: float, *, elevation=None,
                 t_max: float = np.inf, n_directions: int = 32) -> np.ndarray:
    """Fire arrival time (s) at every cell: minimum travel time from the burning sources.

    Parameters
    ----------
    start_time : array_like, shape (ny, nx)
        Time (s) at which each source cell starts burning; ``inf`` for cells that are not
        sources (ignitions, spot fires, or a burning front when restarting).
    forward, side, back : array_like, shape (ny, nx)
        Ray speeds (m/s) along the head direction, perpendicular to it and against it, from the
        ignition point (see the module docstring); ``forward == 0`` marks a non-burnable cell.
        Where ``forward > 0``, ``side`` and ``back`` must be > 0.
    azimuth : array_like, shape (ny, nx)
        Head direction (radians clockwise from north).
    dx : float
        Cell size (m).
    elevation : array_like, shape (ny, nx), optional
        Terrain elevation (m); when given, edge lengths follow the terrain.
    t_max : float
        Stop once every cell reached by ``t_max`` (s) is final.
    n_directions : {16, 32}
        Stencil size.

    Returns
    -------
    numpy.ndarray, shape (ny, nx)
        Arrival time (s); ``inf`` where the fire does not arrive by ``t_max``.

    Raises
    ------
    ValueError
        Mismatched shapes, non-positive ``dx``, NaN start times, negative or non-finite rates, or
        burnable cells with zero side or back rate.
    """
    start = np.asarray(start_time, dtype=np.float64)
    arrays = [np.asarray(x, dtype=np.float64) for x in (forward, side, back, azimuth)]
    if start.ndim != 2 or any(x.shape != start.shape for x in arrays):
        raise ValueError("start_time, forward, side, back and azimuth must be 2-D arrays of one shape")
    if not dx > 0.0:
        raise ValueError(f"dx must be > 0 m, got {dx}")
    if np.isnan(start).any():
        raise ValueError("start_time has NaN (use inf for cells that are not sources)")
    f, s, b, az = arrays
    for name, x in (("forward", f), ("side", s), ("back", b), ("azimuth", az)):
        if not np.isfinite(x).all():
            raise ValueError(f"{name} has non-finite values")
    if (f < 0).any() or (s < 0).any() or (b < 0).any():
        raise ValueError("spread rates must be >= 0 m/s")
    if ((f > 0) & ((s <= 0) | (b <= 0))).any():
        raise ValueError("burnable cells (forward > 0) need side > 0 and back > 0 m/s")
    ny, nx = start.shape
    if elevation is None:
        z, use_z = np.zeros(1), False
    else:
        z = np.ascontiguousarray(elevation, dtype=np.float64).ravel()
        if z.size != ny * nx or not np.isfinite(z).all():
            raise ValueError("elevation must be finite and of the grid's shape")
        use_z = True
    st = stencil(n_directions)
    t = _dijkstra(start.ravel().copy(), _profile_params(f, s, b, az), z, use_z, ny, nx,
                  float(dx), float(t_max), st["offsets"], st["length"], st["east"], st["north"],
                  st["seg_ptr"], st["seg"], st["corner_ptr"], st["corner"])
    return t.reshape(ny, nx)
