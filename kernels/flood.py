"""Local inertial shallow-water step on a raster (the flood kernel).

The scheme is the local inertial approximation of Bates et al. (2010, J. Hydrol. 387, 33-45)
with the theta-weighted face discharge of de Almeida et al. (2012, Water Resour. Res. 48,
W05528), as in LISFLOOD-FP's ACC solver. Units are SI throughout: depths and elevations in m,
unit discharges in m^2/s, rates in m/s, time in s.

Grid and sign conventions
-------------------------
Cells are ``(ny, nx)`` arrays, row 0 at the north edge, square cells of size ``dx`` (m).

* ``h`` (ny, nx): water depth (m); ``z`` (ny, nx): bed elevation (m); ``eta = z + h`` (m).
* ``qx`` (ny, nx + 1): unit discharge (m^2/s) through the face on the **west** side of cell
  ``(r, c)`` at ``qx[r, c]``; ``qx[r, nx]`` is the east edge. Positive **eastward**
  (towards increasing column).
* ``qy`` (ny + 1, nx): unit discharge (m^2/s) through the face on the **north** side of cell
  ``(r, c)`` at ``qy[r, c]``; ``qy[ny, c]`` is the south edge. Positive **southward**
  (towards increasing row), so both directions read the same in index space and a transposed
  grid gives transposed results.
* ``blocked`` (ny, nx, bool): buildings and cells outside the domain. No water crosses any face
  of a blocked cell and blocked cells stay dry.

One step is three pure stages, so that a tile plus a halo can run the interior stages alone
while the edge stage runs only on true edges. A halo of K + 1 cells lets a tile advance K steps
and match the whole-grid run exactly: a cell's new depth depends on its neighbours' old state
one cell away, plus one more cell through the faces the outflow limiter scales (tested).

1. :func:`edge_fluxes` - new discharge on the four outer edges (closed, free or fixed level),
   from the old state;
2. :func:`update_fluxes` - new discharge on every interior face from the old state, edge values
   written in, then the outflow limiter;
3. :func:`update_depth` - continuity, rain, and losses limited to the water available.

:func:`flood_step` runs the three on a whole grid. :func:`stable_timestep` gives the step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

#: Acceleration due to gravity (m/s^2), standard value.
G = 9.80665

#: Edge order of the ``edge_kind`` / ``edge_level`` arrays.
NORTH, SOUTH, EAST, WEST = 0, 1, 2, 3
#: Edge boundary kinds.
CLOSED, FREE, LEVEL = 0, 1, 2

#: Depth (m) at or below which a face carries no flow (default of ``h_min``).
H_MIN = 1e-3

#: Round-off allowance (m) for a depth that ends a step a hair below zero; it is set to zero.
#: Anything more negative is an instability.
NEGATIVE_ROUNDOFF = 1e-12


class FloodInstability(ValueError):
    """The flood state became non-finite or negative.

    Parameters
    ----------
    time_s : float
        Simulated time (s) at the end of the failed step.
    row, col : int
        The first offending cell in row-major order.
    value : float
        The offending depth (m).
    """

    def __init__(self, time_s: float, row: int, col: int, value: float):
        self.time_s = float(time_s)
        self.row = int(row)
        self.col = int(col)
        self.value = float(value)
        super().__init__(f"flood state unstable at t = {self.time_s:.3f} s in cell "
                         f"(row {self.row}, col {self.col}): depth = {self.value!r} m")


class StepVolumes(NamedTuple):
    """What one step moved, as applied, for the volume ledger.

    Attributes
    ----------
    h_max : float
        Largest depth after the step (m), for the next stable step.
    rain_depth : float
        Rain depth summed over cells (m; multiply by dx^2 for m^3).
    infiltration_depth, drainage_depth : float
        Losses summed over cells (m; multiply by dx^2 for m^3).
    boundary_in, boundary_out : float
        Volume (m^3) that entered / left through the four outer edges.
    """

    h_max: float
    rain_depth: float
    infiltration_depth: float
    drainage_depth: float
    boundary_in: float
    boundary_out: float


def stable_timestep(h_max: float, dx: float, alpha: float = 0.7, dt_max: float = 10.0,
                    g: float = G) -> float:
    """Stable time step of the local inertial scheme.

    ``dt = alpha dx / sqrt(g h_max)`` (Bates et al. 2010, eq. 12), capped at ``dt_max``.

    Parameters
    ----------
    h_max : float
        Largest water depth on the grid (m).
    dx : float
        Cell size (m).
    alpha : float
        Courant-type coefficient (-), 0.2-0.7 in Bates et al. (2010).
    dt_max : float
        Upper limit of the step (s), used on a dry or very shallow grid.
    g : float
        Acceleration due to gravity (m/s^2).

    Returns
    -------
    float
        Time step (s).
    """
    if h_max <= 0.0:
        return float(dt_max)
    return float(min(dt_max, alpha * dx / np.sqrt(g * h_max)))


@njit(cache=True, error_model="numpy")
def _face_q(q, q_up, q_down, q_perp, eta0, eta1, z0, z1, n_f, dt, dx, theta, h_min, g):
    """New unit discharge (m^2/s) through one face, positive from side 0 to side 1.

    de Almeida et al. (2012) theta-weighted form of Bates et al. (2010, eq. 11)::

        q_new = [theta q + (1-theta)/2 (q_up + q_down) - g h_f dt (eta1 - eta0)/dx]
                / [1 + g dt n^2 |q_vec| / h_f^(7/3)]

    with ``h_f = max(eta0, eta1) - max(z0, z1)`` and ``|q_vec| = sqrt(q^2 + q_perp^2)``,
    evaluated multiplied through by ``h_f^(7/3)`` (one division).
    """
    hf = max(eta0, eta1) - max(z0, z1)
    if hf <= h_min:
        return 0.0
    num = theta * q + 0.5 * (1.0 - theta) * (q_up + q_down) - g * hf * dt * (eta1 - eta0) / dx
    qv = np.sqrt(q * q + q_perp * q_perp)
    h73 = hf * hf * np.cbrt(hf)
    return num * h73 / (h73 + g * dt * n_f * n_f * qv)


@njit(cache=True, error_model="numpy")
def _update_fluxes(h, z, n, blocked, qx, qy, q_north, q_south, q_east, q_west,
                   dt, dx, theta, h_min, g):
    ny, nx = h.shape
    qx_prev = np.empty(nx + 1, dtype=qx.dtype)   # old qx of cell row r - 1
    qx_cur = np.empty(nx + 1, dtype=qx.dtype)    # old qx of cell row r
    qy_prev = np.empty(nx, dtype=qy.dtype)       # old qy of face row r - 1
    qy_cur = np.empty(nx, dtype=qy.dtype)        # old qy of face row r
    for r in range(ny + 1):
        if r < ny:
            for c in range(nx + 1):
                qx_cur[c] = qx[r, c]
        for c in range(nx):
            qy_cur[c] = qy[r, c]
        # north-south faces of face row r (between cell rows r - 1 and r)
        if r == 0:
            for c in range(nx):
                qy[0, c] = q_north[c]
        elif r == ny:
            for c in range(nx):
                qy[ny, c] = q_south[c]
        else:
            for c in range(nx):
                if blocked[r - 1, c] or blocked[r, c]:
                    qy[r, c] = 0.0
                    continue
                q_perp = 0.25 * (qx_prev[c] + qx_prev[c + 1] + qx_cur[c] + qx_cur[c + 1])
                qy[r, c] = _face_q(qy_cur[c], qy_prev[c], qy[r + 1, c], q_perp,
                                   z[r - 1, c] + h[r - 1, c], z[r, c] + h[r, c],
                                   z[r - 1, c], z[r, c], 0.5 * (n[r - 1, c] + n[r, c]),
                                   dt, dx, theta, h_min, g)
        # east-west faces of cell row r
        if r < ny:
            for c in range(1, nx):
                if blocked[r, c - 1] or blocked[r, c]:
                    qx[r, c] = 0.0
                    continue
                q_perp = 0.25 * (qy_cur[c - 1] + qy_cur[c] + qy[r + 1, c - 1] + qy[r + 1, c])
                qx[r, c] = _face_q(qx_cur[c], qx_cur[c - 1], qx_cur[c + 1], q_perp,
                                   z[r, c - 1] + h[r, c - 1], z[r, c] + h[r, c],
                                   z[r, c - 1], z[r, c], 0.5 * (n[r, c - 1] + n[r, c]),
                                   dt, dx, theta, h_min, g)
            qx[r, 0] = q_west[r]
            qx[r, nx] = q_east[r]
        # every face of cell row r - 1 is now final: limit its outflow
        # (written out here: a called helper made this pass twice as slow)
        if r >= 1:
            rl = r - 1
            for c in range(nx):
                if blocked[rl, c]:
                    continue
                w = qx[rl, c]
                e = qx[rl, c + 1]
                nn = qy[rl, c]
                s = qy[rl + 1, c]
                out = max(-w, 0.0) + max(e, 0.0) + max(-nn, 0.0) + max(s, 0.0)
                cap = h[rl, c] * dx
                if out * dt <= cap:
                    continue
                f = cap / (out * dt)
                if w < 0.0:
                    qx[rl, c] = w * f
                if e > 0.0:
                    qx[rl, c + 1] = e * f
                if nn < 0.0:
                    qy[rl, c] = nn * f
                if s > 0.0:
                    qy[rl + 1, c] = s * f
        qx_prev, qx_cur = qx_cur, qx_prev
        qy_prev, qy_cur = qy_cur, qy_prev


def update_fluxes(h, z, n, blocked, qx, qy, q_north, q_south, q_east, q_west, dt, dx,
                  theta=0.8, h_min=H_MIN, g=G):
    """Advance every face discharge one step, in place (momentum, Bates et al. 2010 eq. 11).

    Interior faces (between two cells of the arrays) get the theta-weighted local inertial
    update of de Almeida et al. (2012), computed from the old ``h``, ``qx`` and ``qy`` only:

        q_new = [theta q + (1-theta)/2 (q_up + q_down) - g h_f dt (eta1-eta0)/dx]
                / [1 + g dt n_f^2 |q_vec| / h_f^(7/3)]

    with ``h_f = max(eta0, eta1) - max(z0, z1)`` (zero flow when ``h_f <= h_min``),
    ``n_f`` the mean Manning n of the two cells and ``|q_vec|`` including the mean of the four
    nearest perpendicular faces. Faces touching a blocked cell carry nothing. The edge faces
    are set to the given ``q_*`` values (from :func:`edge_fluxes`, or the old values on a tile).

    Then each cell's outgoing discharge is scaled down where it would drain more than the cell
    holds in one step (``dt * sum(q_out) <= h dx``), which keeps depth non-negative while
    conserving volume exactly (each face is outgoing for one cell only).

    Parameters
    ----------
    h, z, n : ndarray (ny, nx)
        Depth (m), bed elevation (m) and Manning n (s m^-1/3).
    blocked : ndarray (ny, nx) of bool
        Cells that water cannot enter.
    qx, qy : ndarray (ny, nx+1) and (ny+1, nx)
        Unit discharges (m^2/s), updated in place (sign convention in the module docstring).
    q_north, q_south : ndarray (nx,)
        New discharge (m^2/s) on the north (``qy[0]``) and south (``qy[ny]``) edge faces.
    q_east, q_west : ndarray (ny,)
        New discharge (m^2/s) on the east (``qx[:, nx]``) and west (``qx[:, 0]``) edge faces.
    dt : float
        Time step (s).
    dx : float
        Cell size (m).
    theta : float
        de Almeida weighting (-); 1 gives the Bates et al. (2010) scheme, 0.7-0.9 damps noise.
    h_min : float
        Flow depth (m) at or below which a face carries no flow.
    g : float
        Acceleration due to gravity (m/s^2).
    """
    _update_fluxes(h, z, n, blocked, qx, qy, q_north, q_south, q_east, q_west,
                   float(dt), float(dx), float(theta), float(h_min), float(g))


@njit(cache=True, error_model="numpy")
def _edge_face(q_out, q_perp, eta_edge, z_edge, h_edge, n_edge, kind, level, slope_in,
               dt, dx, h_min, g):
    """New outward-positive discharge (m^2/s) through one edge face (see edge_fluxes)."""
    if kind == FREE:
        if h_edge <= h_min or slope_in <= 0.0:
            return 0.0
        num = q_out + g * h_edge * dt * slope_in
        qv = np.sqrt(q_out * q_out + q_perp * q_perp)
        q = num / (1.0 + g * dt * n_edge * n_edge * qv / h_edge ** (7.0 / 3.0))
        return max(q, 0.0)
    if kind == LEVEL:
        hf = max(eta_edge, level) - z_edge
        if hf <= h_min:
            return 0.0
        num = q_out - g * hf * dt * (level - eta_edge) / dx
        qv = np.sqrt(q_out * q_out + q_perp * q_perp)
        return num / (1.0 + g * dt * n_edge * n_edge * qv / hf ** (7.0 / 3.0))
    return 0.0


@njit(cache=True, error_model="numpy")
def _edge_fluxes(h, z, n, blocked, qx, qy, edge_kind, edge_level, dt, dx, h_min, g,
                 q_north, q_south, q_east, q_west):
    ny, nx = h.shape
    # north and south edges: outward is -qy on the north, +qy on the south
    for side in range(2):
        r = 0 if side == 0 else ny - 1
        r_in = r + 1 if side == 0 else r - 1
        face_r = 0 if side == 0 else ny
        sign = -1.0 if side == 0 else 1.0
        kind = edge_kind[NORTH if side == 0 else SOUTH]
        level = edge_level[NORTH if side == 0 else SOUTH]
        out = q_north if side == 0 else q_south
        for c in range(nx):
            if blocked[r, c] or kind == CLOSED:
                out[c] = 0.0
                continue
            eta = z[r, c] + h[r, c]
            slope = 0.0
            if 0 <= r_in < ny and not blocked[r_in, c] and h[r_in, c] > h_min:
                slope = (z[r_in, c] + h[r_in, c] - eta) / dx
            q_perp = 0.5 * (qx[r, c] + qx[r, c + 1])
            out[c] = sign * _edge_face(sign * qy[face_r, c], q_perp, eta, z[r, c], h[r, c],
                                       n[r, c], kind, level, slope, dt, dx, h_min, g)
    # east and west edges: outward is +qx on the east, -qx on the west
    for side in range(2):
        c = nx - 1 if side == 0 else 0
        c_in = c - 1 if side == 0 else c + 1
        face_c = nx if side == 0 else 0
        sign = 1.0 if side == 0 else -1.0
        kind = edge_kind[EAST if side == 0 else WEST]
        level = edge_level[EAST if side == 0 else WEST]
        out = q_east if side == 0 else q_west
        for r in range(ny):
            if blocked[r, c] or kind == CLOSED:
                out[r] = 0.0
                continue
            eta = z[r, c] + h[r, c]
            slope = 0.0
            if 0 <= c_in < nx and not blocked[r, c_in] and h[r, c_in] > h_min:
                slope = (z[r, c_in] + h[r, c_in] - eta) / dx
            q_perp = 0.5 * (qy[r, c] + qy[r + 1, c])
            out[r] = sign * _edge_face(sign * qx[r, face_c], q_perp, eta, z[r, c], h[r, c],
                                       n[r, c], kind, level, slope, dt, dx, h_min, g)


def edge_fluxes(h, z, n, blocked, qx, qy, edge_kind, edge_level, dt, dx, h_min=H_MIN, g=G,
                out=None):
    """New discharge on the four outer edges of the grid, from the old state.

    Per edge (order ``NORTH, SOUTH, EAST, WEST``), with ``q_out`` the old discharge counted
    positive out of the domain and ``q_perp`` the mean of the edge cell's two faces across:

    * ``CLOSED``: wall, ``q = 0``.
    * ``FREE``: outflow only, LISFLOOD-FP style: the local inertial update (Bates et al. 2010,
      eq. 11) driven by the water-surface slope ``S`` from the inward neighbour down to the
      edge cell, ``q = max(0, [q_out + g h dt S] / [1 + g dt n^2 |q_vec| / h^(7/3)])``
      with ``h`` the edge cell's depth. No flow where ``S <= 0``, ``h <= h_min``, or the
      inward neighbour is blocked, missing or dry (``h <= h_min``), so still water touching a
      free edge stays still.
    * ``LEVEL``: a ghost cell beyond the edge with the same bed as the edge cell and water
      level ``edge_level`` (m); the same update with ``h_f = max(eta, level) - z`` and
      gradient ``(level - eta) / dx``, so water flows in or out.

    Faces of blocked edge cells carry nothing.

    Parameters
    ----------
    h, z, n, blocked : ndarray (ny, nx)
        Depth (m), bed elevation (m), Manning n (s m^-1/3) and blocked cells (bool).
    qx, qy : ndarray
        Old unit discharges (m^2/s), not modified.
    edge_kind : ndarray (4,) of int
        ``CLOSED``, ``FREE`` or ``LEVEL`` for ``NORTH, SOUTH, EAST, WEST``.
    edge_level : ndarray (4,) of float
        Water level (m) beyond each ``LEVEL`` edge (ignored for the others).
    dt, dx : float
        Time step (s) and cell size (m).
    h_min : float
        Depth (m) at or below which a face carries no flow.
    g : float
        Acceleration due to gravity (m/s^2).
    out : tuple of 4 ndarrays, optional
        Buffers ``(q_north (nx,), q_south (nx,), q_east (ny,), q_west (ny,))`` to fill.

    Returns
    -------
    tuple of ndarray
        ``(q_north, q_south, q_east, q_west)`` in m^2/s, in the grid's sign convention.
    """
    ny, nx = h.shape
    if out is None:
        out = (np.empty(nx, qy.dtype), np.empty(nx, qy.dtype),
               np.empty(ny, qx.dtype), np.empty(ny, qx.dtype))
    _edge_fluxes(h, z, n, blocked, qx, qy, np.asarray(edge_kind, np.int64),
                 np.asarray(edge_level, np.float64), float(dt), float(dx), float(h_min),
                 float(g), *out)
    return out


@njit(cache=True, error_model="numpy")
def _update_depth(h, qx, qy, blocked, dt, dx, rain_rate, rain_weight, infiltration_rate,
                  drainage_rate):
    ny, nx = h.shape
    h_max = 0.0
    rain_sum = 0.0
    inf_sum = 0.0
    drain_sum = 0.0
    k = dt / dx
    for r in range(ny):
        for c in range(nx):
            if blocked[r, c]:
                continue
            rain = rain_rate * dt * rain_weight[r, c]
            hn = h[r, c] + k * (qx[r, c] - qx[r, c + 1] + qy[r, c] - qy[r + 1, c]) + rain
            if not (hn >= -NEGATIVE_ROUNDOFF) or not np.isfinite(hn):
                return h_max, rain_sum, inf_sum, drain_sum, r * nx + c, hn
            hn = max(hn, 0.0)
            rain_sum += rain
            f_cap = infiltration_rate[r, c] * dt
            d_cap = drainage_rate[r, c] * dt
            if f_cap + d_cap <= hn:
                hn -= f_cap + d_cap
            else:
                f_cap = hn * f_cap / (f_cap + d_cap)
                d_cap = hn - f_cap
                hn = 0.0
            inf_sum += f_cap
            drain_sum += d_cap
            h[r, c] = hn
            if hn > h_max:
                h_max = hn
    return h_max, rain_sum, inf_sum, drain_sum, -1, 0.0


def update_depth(h, qx, qy, blocked, dt, dx, rain_rate, rain_weight, infiltration_rate,
                 drainage_rate, t_end=0.0):
    """Advance depth one step, in place: continuity, rain, then losses.

    ``h += dt (q_in - q_out) / dx + dt r w`` (Bates et al. 2010, eq. 6, with sources), then
    the loss capacity ``dt (f + d)`` is taken, limited to the water present and split between
    infiltration ``f`` and drainage ``d`` in proportion, so depth never goes negative.
    Blocked cells are left untouched.

    Parameters
    ----------
    h : ndarray (ny, nx)
        Depth (m), updated in place.
    qx, qy : ndarray
        Unit discharges (m^2/s) of this step, after :func:`update_fluxes`.
    blocked : ndarray (ny, nx) of bool
        Cells that water cannot enter.
    dt, dx : float
        Time step (s) and cell size (m).
    rain_rate : float
        Rain intensity during the step (m/s).
    rain_weight : ndarray (ny, nx)
        Multiplier of ``rain_rate`` per cell (-): 0 where rain is not counted, more than 1
        where roofs drain into the cell.
    infiltration_rate, drainage_rate : ndarray (ny, nx)
        Loss capacities (m/s).
    t_end : float
        Simulated time (s) at the end of the step, only to name it in an error.

    Returns
    -------
    tuple of float
        ``(h_max, rain_depth, infiltration_depth, drainage_depth)``: the largest depth (m) and
        the cell sums (m) of what was applied.

    Raises
    ------
    FloodInstability
        A depth became non-finite or negative (beyond round-off); ``h`` is then partly updated.
    """
    h_max, rain_s, inf_s, drain_s, bad, value = _update_depth(
        h, qx, qy, blocked, float(dt), float(dx), float(rain_rate), rain_weight,
        infiltration_rate, drainage_rate)
    if bad >= 0:
        raise FloodInstability(t_end, *divmod(bad, h.shape[1]), value)
    return h_max, rain_s, inf_s, drain_s


def edge_volumes(qx, qy, dt, dx):
    """Volume (m^3) that crossed the four outer edges in one step, as ``(in, out)``.

    Parameters
    ----------
    qx, qy : ndarray
        Unit discharges (m^2/s) of the step (sign convention in the module docstring).
    dt, dx : float
        Time step (s) and cell size (m).

    Returns
    -------
    tuple of float
        Inflow and outflow volumes (m^3), both >= 0.
    """
    inward = np.concatenate([qx[:, 0], -qx[:, -1], qy[0, :], -qy[-1, :]])
    k = dt * dx
    return k * float(np.clip(inward, 0.0, None).sum()), k * float(np.clip(-inward, 0.0, None).sum())


def flood_step(h, qx, qy, z, n, blocked, dt, dx, *, edge_kind, edge_level, rain_rate,
               rain_weight, infiltration_rate, drainage_rate, theta=0.8, h_min=H_MIN, g=G,
               t_end=0.0, edge_buffers=None) -> StepVolumes:
    """One whole-grid step of the local inertial scheme, in place.

    Runs :func:`edge_fluxes`, :func:`update_fluxes` and :func:`update_depth` (see those for the
    equations, Bates et al. 2010 eqs. 6 and 11 with de Almeida et al. 2012 theta-weighting).

    Parameters
    ----------
    h, qx, qy : ndarray
        State: depth (m, ny x nx), unit discharges (m^2/s, ny x nx+1 and ny+1 x nx).
    z, n, blocked : ndarray (ny, nx)
        Bed elevation (m), Manning n (s m^-1/3), blocked cells (bool).
    dt, dx : float
        Time step (s), e.g. from :func:`stable_timestep`, and cell size (m).
    edge_kind, edge_level : array-like (4,)
        Boundary kind and level (m) per edge, see :func:`edge_fluxes`.
    rain_rate : float
        Rain intensity (m/s).
    rain_weight, infiltration_rate, drainage_rate : ndarray (ny, nx)
        Rain multiplier (-) and loss capacities (m/s), see :func:`update_depth`.
    theta, h_min, g : float
        Weighting (-), no-flow depth (m), gravity (m/s^2).
    t_end : float
        Simulated time (s) at the end of the step, to name it in an error.
    edge_buffers : tuple of 4 ndarrays, optional
        Reused buffers for :func:`edge_fluxes`.

    Returns
    -------
    StepVolumes
        Largest depth and the volumes applied in the step.

    Raises
    ------
    FloodInstability
        The new state is non-finite or negative.
    """
    edges = edge_fluxes(h, z, n, blocked, qx, qy, edge_kind, edge_level, dt, dx, h_min, g,
                        out=edge_buffers)
    update_fluxes(h, z, n, blocked, qx, qy, *edges, dt, dx, theta, h_min, g)
    b_in, b_out = edge_volumes(qx, qy, dt, dx)
    h_max, rain_s, inf_s, drain_s = update_depth(h, qx, qy, blocked, dt, dx, rain_rate,
                                                 rain_weight, infiltration_rate,
                                                 drainage_rate, t_end)
    return StepVolumes(h_max, rain_s, inf_s, drain_s, b_in, b_out)
