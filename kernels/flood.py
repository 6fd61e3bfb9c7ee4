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
while the edge stage runs only on true edges. A halo of 2K cells lets a tile advance K steps
and match the whole-grid run exactly: each step, a face update reads the neighbouring faces
(theta-weighting, perpendicular flux) and the outflow limiter scales it by a factor that depends
on the drained cell's other faces, so the valid region shrinks by two cells per step (tested;
a halo of K + 1 fails on some states). ``twin/hazards/flood/tiled.py`` adds one cell for its storage of
the faces and uses 2K + 1.

1. :func:`edge_fluxes` - new discharge on the four outer edges (closed, free or fixed level),
   from the old state;
2. :func:`update_fluxes` - new discharge on every interior face from the old state, edge values
   written in, then the outflow limiter;
3. :func:`update_depth` - continuity, rain, and losses limited to the water available.

:func:`flood_step` runs the three on a whole grid, with stages 2 and 3 fused into one
north-to-south sweep of rows (a row's continuity follows two rows behind its fluxes, while
they are still in cache); the result is bitwise that of the stages run one after another.
:func:`tile_step` is the same sweep for a tile of a larger grid (``twin/hazards/flood/tiled.py``): the
edge discharges are given (held where the tile borders another), and the largest depth and the
applied sums count only a window of cells (the tile's core). The flood step's compiled
functions release the GIL (numba ``nogil``), so threads can run tiles at once.
:func:`stable_timestep` gives the step: the Courant step of Bates et al. (2010), capped, and
an outflow control that keeps shallow cells from draining whole in one step on a wetting grid
(each step reports the largest net outflow share per second of a shallow cell,
:attr:`StepVolumes.outflow_rate`, that the next step is sized by).

Speed: the inner loops over a row are branch-free (both outcomes computed, one selected) so
that LLVM compiles them to SIMD code; the friction term is evaluated with ``h_f^(-1/3)`` from
:func:`rcbrt`, a division-free Newton iteration that vectorizes, instead of libm's ``cbrt``
(whose calls took half of the flux pass) or a vectorized cube root with its extra correction
step (8 % of the step).
A uniform field given as a zero-stride broadcast (how ``twin.hazards.flood.model`` holds a number) is
read as its single row (:func:`_as_rows`): loops over broadcast rows would not vectorize.
Only IEEE operations with explicit fused multiply-adds are used (no fast-math), so a SIMD lane
and the scalar remainder loop give the same bits and tiles match the whole grid exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from llvmlite import ir as llvm_ir
from numba import njit, types
from numba.extending import intrinsic

#: Acceleration due to gravity (m/s^2), standard value.
G = 9.80665

#: Edge order of the ``edge_kind`` / ``edge_level`` arrays.
NORTH, SOUTH, EAST, WEST = 0, 1, 2, 3
#: Edge boundary kinds.
CLOSED, FREE, LEVEL = 0, 1, 2

#: Depth (m) at or below which a face carries no flow (default of ``h_min``).
H_MIN = 1e-3

#: Default Courant coefficient (-) of the stable step: 87 % of the stability limit
#: ``sqrt(theta / 2) = 0.632`` of the default weighting ``theta = 0.8`` (:func:`courant_limit`).
ALPHA = 0.55

#: Edge flags ``(north, south, east, west)`` of :func:`_sweep`'s boundary volumes.
_ALL_SIDES = np.ones(4, dtype=np.bool_)
_NO_SIDES = np.zeros(4, dtype=np.bool_)

#: Round-off allowance (m) for a depth that ends a step a hair below zero; it is set to zero.
#: Anything more negative is an instability.
NEGATIVE_ROUNDOFF = 1e-12

#: Depth (m) below which a cell counts in the outflow control of the step (:func:`stable_timestep`):
#: the thin sheet flows of rain on a grid, whose friction relaxes within a fraction of a second,
#: and not deep water (rivers, ponds, inflow cells), which the Courant step already governs.
SHALLOW_DEPTH = 0.1

#: Depth floor (m) of the outflow control: a cell shallower than this counts as this deep, so
#: that a cell just wetting (a few tenths of a millimetre) does not stall the step.
OUTFLOW_DEPTH_FLOOR = 3e-3

#: Default largest share of its water (-) a shallow cell may lose to its neighbours in one step
#: (:func:`stable_timestep`); measured in bench/README.md, "Flood step".
OUTFLOW_FRACTION = 0.1

#: Largest growth of the step from one step to the next (-), as the step-size controllers of
#: ODE solvers bound it (Hairer, Norsett & Wanner 1993, Solving Ordinary Differential Equations
#: I, Sect. II.4, the factor "facmax"): after the outflow control has cut the step, the step
#: returns to the Courant step over a few steps instead of at once (which overshoots again).
STEP_GROWTH = 1.2


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
    edge_in, edge_out : tuple of 4 float
        Volume (m^3) that entered / left through each outer edge, in the order ``NORTH,
        SOUTH, EAST, WEST`` (:attr:`boundary_in` and :attr:`boundary_out` are their sums).
    outflow_rate : float
        Largest net outflow (flow out less flow in and rain) of a watched shallow cell (depth
        below :data:`SHALLOW_DEPTH`) over the step, as a share of its depth at the start
        (floored at :data:`OUTFLOW_DEPTH_FLOOR`) per second (1/s), for the next step's outflow
        control (:func:`stable_timestep`).
    """

    h_max: float
    rain_depth: float
    infiltration_depth: float
    drainage_depth: float
    edge_in: tuple
    edge_out: tuple
    outflow_rate: float

    @property
    def boundary_in(self) -> float:
        """Volume (m^3) that entered through the four outer edges."""
        return float(sum(self.edge_in))

    @property
    def boundary_out(self) -> float:
        """Volume (m^3) that left through the four outer edges."""
        return float(sum(self.edge_out))


def courant_limit(theta: float) -> float:
    """Largest stable Courant coefficient ``alpha`` (-) of the theta-weighted scheme in 2D, frictionless.

    ``alpha_max = sqrt(theta / 2)``, from a von Neumann analysis of the scheme (docs/flood_numerics.md):
    a Fourier mode of phases ``(phi_x, phi_y)`` has the amplification matrix of the face update
    ``q' = a q - i C sigma eta`` (``a = theta + (1 - theta) cos phi``, ``sigma = 2 sin(phi / 2)``,
    ``C = sqrt(g h) dt / dx``) and of continuity; in 1D its eigenvalues solve
    ``lambda^2 - (1 + a - C^2 sigma^2) lambda + a = 0``, stable when ``C^2 sigma^2 <= 2 (1 + a)``.
    The binding mode is the 2D checkerboard (``phi_x = phi_y = pi``: ``a = 2 theta - 1``,
    ``sigma_x^2 + sigma_y^2 = 8``), giving ``C <= sqrt(theta / 2)``: 0.632 for ``theta = 0.8``, 0.707
    (Bates et al. 2010's 0.7) for ``theta = 1``. A numerical scan over all modes gives the same bound
    (tests/test_flood_stability.py, which also shows the kernel's still water growing just above it
    and decaying just below). Friction only damps moving water, so deep still water (ponds,
    underpasses, a backed-up river) sees this bound.

    Parameters
    ----------
    theta : float
        de Almeida et al. (2012) weighting (-), in (0, 1].

    Returns
    -------
    float
        ``sqrt(theta / 2)`` (-).
    """
    return float(np.sqrt(0.5 * theta))


def courant_step(h_max: float, dx: float, alpha: float, g: float = G) -> float:
    """The Courant step ``alpha dx / sqrt(g h_max)`` (s) of Bates et al. (2010, eq. 12); infinite
    for a dry grid (``h_max <= 0``). ``h_max`` in m, ``dx`` in m, ``g`` in m/s^2."""
    return float(alpha * dx / np.sqrt(g * h_max)) if h_max > 0.0 else np.inf


def step_weighting(theta: float, dt: float, h_max: float, dx: float, g: float = G) -> float:
    """The weighting (-) of one step of ``dt`` (s): ``1 - (1 - theta) dt / dt_limit``.

    de Almeida et al. (2012) blend ``theta q + (1 - theta) (q_up + q_down) / 2``, whose
    dissipation acts once per step: ``(1 - theta) / 2`` times the second difference of ``q``, a
    numerical diffusion of ``(1 - theta) dx^2 / (2 dt)`` (m^2/s). A fixed ``theta`` thus diffuses
    more the smaller the step, and a run does not converge as the step shrinks (the maximum depth
    of rain on a grid moved by 5 % between ``max_dt`` 1 s and 0.5 s, bench/README.md). Scaled by
    the step's share of ``dt_limit``, the step at the stability limit (:func:`courant_step` of
    :func:`courant_limit` and ``h_max``, the depth that sized the step), the diffusion is
    ``(1 - theta) dx sqrt(g h_max) / (2 sqrt(theta / 2))`` whatever the step and the Courant
    coefficient: ``theta`` as given at the limit, tending to 1 (no blending) as the step shrinks.
    Every step stays within the bound of :func:`courant_limit`: with ``r = dt / dt_limit`` in
    [0, 1) the bound reads ``r^2 theta / 2 <= (1 - (1 - theta) r) / 2``, which holds at ``r = 0``
    and ``r = 1``, so everywhere between (the left side is convex in ``r``, the right side linear).

    Parameters
    ----------
    theta : float
        Weighting at the stability limit (-), in (0, 1].
    dt : float
        The step (s), at most the step at the stability limit.
    h_max : float
        Largest depth (m) of the grid that sized the step; 0 for a dry grid (weighting 1).
    dx : float
        Cell size (m).
    g : float
        Acceleration due to gravity (m/s^2).

    Returns
    -------
    float
        The step's weighting (-), in ``[theta, 1]``.
    """
    dt_limit = courant_step(h_max, dx, courant_limit(theta), g)
    return float(1.0 - (1.0 - theta) * min(dt / dt_limit, 1.0))


def stable_timestep(h_max: float, dx: float, alpha: float = ALPHA, dt_max: float = 10.0,
                    g: float = G, outflow_rate: float = 0.0,
                    outflow_fraction: float = OUTFLOW_FRACTION,
                    dt_last: float = np.inf) -> float:
    """Time step of the local inertial scheme: the Courant step, capped, and the outflow control.

    ``dt = min(alpha dx / sqrt(g h_max), dt_max, outflow_fraction / outflow_rate,
    STEP_GROWTH dt_last)``.

    The first term is the stable step of Bates et al. (2010, eq. 12). On a nearly dry grid
    (rain on the grid) it is unbounded and ``dt_max`` alone would govern, but there the face
    update starts from rest with no friction (the friction term of eq. 11 uses the old
    discharge), overshoots the friction-limited discharge by ``dt`` over the friction time,
    and shallow cells drain whole in a step and pile their water up downstream: short-lived
    peaks that the maximum depth keeps (bench/README.md, "Flood step"). The third term, an
    outflow control in the manner of the step criteria of explicit overland-flow solvers (the
    "net outflow from cell" criterion of MIKE SHE's explicit overland solver, DHI MIKE SHE
    User Guide; the limit on the percent change of depth per step, DEPTOL, of the FLO-2D
    Reference Manual), keeps the share of its water a shallow cell loses in one step below
    ``outflow_fraction``: ``outflow_rate`` is the largest such share per second over the last step
    (:attr:`StepVolumes.outflow_rate`), so the control reacts from the step after the
    overshoot begins. Deep cells (from :data:`SHALLOW_DEPTH`) are left to the Courant step,
    so rivers and ponds pay nothing (the time loops leave out inflow cells too). The last
    term lets the step grow by at most :data:`STEP_GROWTH` a step.

    Parameters
    ----------
    h_max : float
        Largest water depth on the grid (m).
    dx : float
        Cell size (m).
    alpha : float
        Courant-type coefficient (-), 0.2-0.7 in Bates et al. (2010); stable up to
        :func:`courant_limit` of the weighting.
    dt_max : float
        Upper limit of the step (s).
    g : float
        Acceleration due to gravity (m/s^2).
    outflow_rate : float
        Largest net outflow share per second of a shallow cell in the last step (1/s, >= 0;
        0 turns the control off).
    outflow_fraction : float
        Largest share of its water (-) a shallow cell may lose in one step, in (0, 1].
    dt_last : float
        The step (s) chosen last (before any clipping to an output time); infinite for none.

    Returns
    -------
    float
        Time step (s).
    """
    dt = min(float(dt_max), courant_step(h_max, dx, alpha, g))
    if outflow_rate > 0.0:
        dt = min(dt, outflow_fraction / outflow_rate)
    return float(min(dt, STEP_GROWTH * dt_last))


@intrinsic
def _bits(typingctx, x):
    """The IEEE 754 bit pattern of a float64, as an int64 (a reinterpretation, no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, i):
    """The float64 whose IEEE 754 bit pattern is the int64 ``i``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (IEEE 754 fused multiply-add, the same in SIMD and scalar)."""
    def codegen(context, builder, signature, args):
        return builder.fma(*args)
    return types.float64(types.float64, types.float64, types.float64), codegen


#: Bit-pattern constant of the first guess of x^(-1/3): halving / thirding the exponent field
#: of an IEEE double by integer arithmetic on its bits (Lomont 2003 style, 3.4 % worst error).
_RCBRT_MAGIC = 0x553EF0FF289DD794


@njit(cache=True, error_model="numpy")
def rcbrt(x):
    """Reciprocal cube root ``x^(-1/3)`` of a positive normal float64, in branch-free,
    division-free arithmetic that vectorizes.

    A bit-pattern first guess (3.4 % error) refined by four Newton steps for ``y^-3 = x``,
    ``y <- y (4 - x y^3) / 3`` evaluated as ``y (4/3 - (x/3 y) y^2)`` (error ``e -> 2 e^2``:
    2e-3, 1e-5, 2e-10, then round-off). Within 2 ulp of ``x^(-1/3)`` for
    ``2.3e-308 <= x <= 1.7e308`` (tested); zero, negative, subnormal and infinite ``x`` give
    garbage, NaN gives NaN. Unlike a call to libm's ``cbrt``, compiled loops calling it
    vectorize (SIMD).

    Parameters
    ----------
    x : float
        Positive normal number (any unit u).

    Returns
    -------
    float
        ``x^(-1/3)`` (u^(-1/3)).
    """
    y = _from_bits(_RCBRT_MAGIC - np.int64(np.float64(_bits(x)) * (1.0 / 3.0)))
    x3 = x * (1.0 / 3.0)
    y = y * _fma(-(x3 * y), y * y, 4.0 / 3.0)
    y = y * _fma(-(x3 * y), y * y, 4.0 / 3.0)
    y = y * _fma(-(x3 * y), y * y, 4.0 / 3.0)
    return y * _fma(-(x3 * y), y * y, 4.0 / 3.0)


@njit(cache=True, error_model="numpy")
def _face_q(q, q_up, q_down, q_perp, eta0, eta1, z0, z1, n_sum, shut, g_dt_dx, g_dt_4, theta,
            h_min):
    """New unit discharge (m^2/s) through one face, positive from side 0 to side 1.

    de Almeida et al. (2012) theta-weighted form of Bates et al. (2010, eq. 11)::

        q_new = [theta q + (1-theta)/2 (q_up + q_down) - g h_f dt (eta1 - eta0)/dx]
                / [1 + g dt n^2 |q_vec| / h_f^(7/3)]

    with ``h_f = max(eta0, eta1) - max(z0, z1)``, ``|q_vec| = sqrt(q^2 + q_perp^2)`` and ``n``
    the mean Manning n of the two cells (given as their sum ``n_sum``, with ``g_dt_4 = g dt / 4``),
    evaluated multiplied through by ``h_f^2`` (one division), so that the friction term needs
    ``h_f^(-1/3)`` (:func:`rcbrt`) rather than a cube root, with fused multiply-adds.
    Zero where ``shut`` (a blocked side) or ``h_f <= h_min``. Branch-free (both outcomes
    computed, one selected) so that a loop over faces vectorizes; a NaN state gives NaN.
    """
    hf = max(eta0, eta1) - max(z0, z1)
    hs = hf if hf > h_min else 1.0            # keeps the dry lanes' arithmetic finite
    # theta q + (1 - theta)/2 (q_up + q_down) - g dt h_f (eta1 - eta0) / dx, fused
    num = _fma(theta, q, _fma(0.5 * (1.0 - theta), q_up + q_down,
                              -g_dt_dx * hf * (eta1 - eta0)))
    qv = np.sqrt(_fma(q, q, q_perp * q_perp))
    h2 = hs * hs
    # num h^2 / (h^2 + g dt n_f^2 |q| h^(-1/3)), with n_f = (n0 + n1) / 2:
    # g dt n_f^2 = (g dt / 4) n_sum^2
    q_new = num * h2 / _fma(g_dt_4 * n_sum * n_sum * qv, rcbrt(hs), h2)
    return 0.0 if shut | (hf <= h_min) else q_new


@njit(cache=True, error_model="numpy")
def _row_faces(qy_out, qx_out, qy_old, qy_prev, qy_next, qx_prev, qx_old, h0, h1, z0, z1, n0,
               n1, b0, b1, g_dt_dx, g_dt_4, theta, h_min):
    """New discharge on a row of north-south faces and on the interior east-west faces of the
    cell row south of it, in one pass over the columns (the cells' loads are shared).

    The north-south faces lie between cell rows 0 (``h0``, ``z0``, ``n0``, ``b0``) and 1
    (``h1``, ...); ``qy_old`` is their old discharge and ``qy_prev`` / ``qy_next`` the old face
    rows north and south of them. ``qx_old`` / ``qx_prev`` are the old east-west faces of
    cell rows 1 and 0 (the perpendicular flux); ``qx_out[1:-1]`` receives the new interior
    east-west faces of cell row 1, ``qy_out`` the new north-south faces.
    """
    for c in range(1, h1.size):
        q_perp = 0.25 * (qx_prev[c] + qx_prev[c + 1] + qx_old[c] + qx_old[c + 1])
        qy_out[c] = _face_q(qy_old[c], qy_prev[c], qy_next[c], q_perp, z0[c] + h0[c],
                            z1[c] + h1[c], z0[c], z1[c], n0[c] + n1[c], b0[c] | b1[c],
                            g_dt_dx, g_dt_4, theta, h_min)
        q_perp = 0.25 * (qy_old[c - 1] + qy_old[c] + qy_next[c - 1] + qy_next[c])
        qx_out[c] = _face_q(qx_old[c], qx_old[c - 1], qx_old[c + 1], q_perp,
                            z1[c - 1] + h1[c - 1], z1[c] + h1[c], z1[c - 1], z1[c],
                            n1[c - 1] + n1[c], b1[c - 1] | b1[c], g_dt_dx, g_dt_4, theta, h_min)
    q_perp = 0.25 * (qx_prev[0] + qx_prev[1] + qx_old[0] + qx_old[1])
    qy_out[0] = _face_q(qy_old[0], qy_prev[0], qy_next[0], q_perp, z0[0] + h0[0], z1[0] + h1[0],
                        z0[0], z1[0], n0[0] + n1[0], b0[0] | b1[0], g_dt_dx, g_dt_4, theta,
                        h_min)


@njit(cache=True, error_model="numpy")
def _outflow_dt(qx_row, qy_n, qy_s, c, dt):
    """Volume per unit width (m^2) that cell ``c`` of a row would lose in ``dt`` (s)."""
    return (max(-qx_row[c], 0.0) + max(qx_row[c + 1], 0.0) + max(-qy_n[c], 0.0)
            + max(qy_s[c], 0.0)) * dt


@njit(cache=True, error_model="numpy")
def _limit_factors(fac, qx_row, qy_n, qy_s, h, b, dt, dx):
    """Outflow limiter factors of one row into ``fac[1:-1]`` (-); returns ``(lo, hi)``.

    ``f = h dx / (dt sum(q_out))`` where the outflow would drain more than the cell holds,
    else 1 (and 1 on blocked cells). ``lo`` and ``hi`` are the columns of the first and last
    limited cell, ``(-1, -1)`` when none is; ``fac`` is written only when some cell is (a
    first pass counts them, so the common case costs no division and no scaling).
    """
    n_limited = 0
    for c in range(h.size):
        n_limited += (not b[c]) & (not (_outflow_dt(qx_row, qy_n, qy_s, c, dt) <= h[c] * dx))
    if n_limited == 0:
        return -1, -1
    lo, hi = -1, -1
    for c in range(h.size):
        out_dt = _outflow_dt(qx_row, qy_n, qy_s, c, dt)
        cap = h[c] * dx
        keep = b[c] | (out_dt <= cap)
        fac[c + 1] = 1.0 if keep else cap / out_dt
        if not keep:
            lo = c if lo < 0 else lo
            hi = c
    return lo, hi


@njit(cache=True, error_model="numpy")
def _scale_faces(q, fac_neg, fac_pos):
    """Scale each outgoing face by its upstream cell's limiter factor, in place.

    A positive discharge on face ``k`` takes the factor ``fac_pos[k]``, a negative one
    ``fac_neg[k + 1]`` (factor arrays are padded with a leading 1: see _limit_factors). Each
    face is outgoing for one cell only, so volume is conserved exactly.
    """
    for k in range(q.size):
        v = q[k]
        q[k] = v * (fac_pos[k] if v > 0.0 else (fac_neg[k + 1] if v < 0.0 else 1.0))


@njit(cache=True, error_model="numpy")
def _losses(hn, f_cap, d_cap):
    """Losses limited to the water present: ``(depth after, infiltration, drainage)`` (m).

    The capacities ``f_cap`` and ``d_cap`` (m) are taken whole when ``hn`` (m, >= 0) covers
    them, else ``hn`` is split between them in proportion. Branch-free.
    """
    loss = f_cap + d_cap
    short = loss > hn
    f_part = hn * f_cap / (loss if short else 1.0)
    return (0.0 if short else hn - loss), (f_part if short else f_cap), \
        (hn - f_part if short else d_cap)


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "nsz", "nnan", "ninf"})
def _row_volumes(h, b, w, f_take, d_take, rain_dt):
    """``(max depth, rain, infiltration, drainage)`` (m) over the open cells of a row.

    The sums are reassociated (SIMD lanes), so they may differ from a sequential sum in the
    last bits; the maximum is exact, taken on the bit patterns (ordered as the values for
    non-negative doubles) so that it vectorizes. The depths are final (finite, >= 0).
    """
    m_bits, rain_s, inf_s, drain_s = 0, 0.0, 0.0, 0.0
    for c in range(h.size):
        shut = b[c]
        m_bits = max(m_bits, 0 if shut else _bits(h[c]))
        rain_s += 0.0 if shut else rain_dt * w[c]
        inf_s += f_take[c]
        drain_s += d_take[c]
    return _from_bits(m_bits), rain_s, inf_s, drain_s


@njit(cache=True, error_model="numpy")
def _depth_row(h, qx_row, qy_n, qy_s, b, w, f_rate, d_rate, k, rain_dt, dt, f_take, d_take,
               watch):
    """Continuity, rain and losses on one cell row, in place (see :func:`update_depth`).

    Returns ``(h_max, rain, infiltration, drainage, outflow, bad)``: the row's largest new
    depth (m), the summed depths applied (m), the largest net outflow share (-) of a watched
    shallow cell (``watch`` true, depth at the start below :data:`SHALLOW_DEPTH`: the depth
    it lost to flow net of rain, ``max(0, -(dt div q / dx + dt r w))``, over
    ``max(h, OUTFLOW_DEPTH_FLOOR)``) and the first column whose depth before losses is
    non-finite or negative beyond round-off (-1 if none; ``h`` then holds that value there).
    ``f_take`` / ``d_take`` (row buffers) receive the infiltration and drainage depths taken
    (m), summed apart by :func:`_row_volumes` so that only the sums are reassociated.
    """
    n_bad = 0
    out_bits = 0                 # the largest outflow share, as the bits of a double >= 0
    for c in range(h.size):
        flow = k * (qx_row[c] - qx_row[c + 1] + qy_n[c] - qy_s[c])
        rain_c = rain_dt * w[c]
        hn = h[c] + flow + rain_c
        shut = b[c]
        share = max(-(flow + rain_c), 0.0) / max(h[c], OUTFLOW_DEPTH_FLOOR)
        watched = watch[c] & (not shut) & (h[c] < SHALLOW_DEPTH) & (share < np.inf)
        out_bits = max(out_bits, _bits(share) if watched else 0)
        bad = (not shut) & (not ((hn >= -NEGATIVE_ROUNDOFF) & (hn < np.inf)))
        n_bad += bad
        after, f_c, d_c = _losses(max(hn, 0.0), f_rate[c] * dt, d_rate[c] * dt)
        h[c] = h[c] if shut else (hn if bad else after)
        f_take[c] = 0.0 if shut else f_c
        d_take[c] = 0.0 if shut else d_c
    if n_bad:
        for c in range(h.size):
            if not b[c] and not (h[c] >= -NEGATIVE_ROUNDOFF and h[c] < np.inf):
                return 0.0, 0.0, 0.0, 0.0, 0.0, c
    h_max, rain_s, inf_s, drain_s = _row_volumes(h, b, w, f_take, d_take, rain_dt)
    return h_max, rain_s, inf_s, drain_s, _from_bits(out_bits), -1


@njit(cache=True, error_model="numpy")
def _row(a, r):
    """Row ``r`` of a cell field, or its only row when the field is one row (uniform along y)."""
    return a[min(r, a.shape[0] - 1)]


def _watch_rows(watched, shape):
    """The cells the outflow rate watches, as the sweep reads them: all (one row of True)
    when ``watched`` is None."""
    if watched is None:
        return np.ones((1, shape[1]), dtype=np.bool_)
    return _as_rows(np.asarray(watched, dtype=np.bool_))


def _as_rows(a):
    """A cell field as the sweep reads it: a field broadcast along y (zero row stride, e.g.
    ``np.broadcast_to`` of a scalar, which costs no memory) becomes its one row, contiguous.

    Compiled loops over the strided rows of a broadcast array do not vectorize: a uniform
    Manning n given that way made the step 2.3 times slower (21.5 against 9.45 ns per cell at
    2000 x 2000). Other arrays are returned as they are.
    """
    if a is not None and a.ndim == 2 and a.shape[0] > 1 and a.strides[0] == 0:
        return np.ascontiguousarray(a[:1])
    return a


@njit(cache=True, error_model="numpy", nogil=True)
def _sweep(h, z, n, blocked, qx, qy, q_north, q_south, q_east, q_west, dt, dx, theta, h_min,
           g, rain_rate, rain_weight, infiltration_rate, drainage_rate, r0, r1, c0, c1, sides,
           ny, nx, watched):
    """Momentum and limiter over the grid in one north-to-south sweep of rows, in place.

    With ``rain_weight`` not None the continuity update of each row follows two rows behind
    (once all four faces of its cells are final), so one sweep is a whole step; it returns
    ``(h_max, rain, infiltration, drainage, boundary_in, boundary_out, outflow_share,
    bad_flat_index, bad_value)``: the maxima and sums as _update_depth (the outflow share
    per step, not per second), taken over the window of cells
    ``[r0, r1) x [c0, c1)`` only (every cell is updated and checked), and the volumes (m^3)
    that entered and left through the final edge faces of the window on the grid edges
    flagged in ``sides`` (north, south, east, west). A window narrower than the grid splits
    each row's continuity at ``c0`` and ``c1`` (per cell the same arithmetic). The grid is
    ``ny x nx`` cells: the arrays may be larger (longer rows), only their leading rows and
    columns are used, each row as a contiguous slice.
    """
    g_dt_dx = g * dt / dx
    g_dt_4 = 0.25 * g * dt                       # g dt / 4, see _face_q
    qx_prev = np.zeros(nx + 1, dtype=qx.dtype)   # old qx of cell row r - 1
    qx_cur = np.empty(nx + 1, dtype=qx.dtype)    # old qx of cell row r
    qy_prev = np.zeros(nx, dtype=qy.dtype)       # old qy of face row r - 1
    discard = np.empty(nx)                       # north-south faces computed on row 0
    qy_cur = np.empty(nx, dtype=qy.dtype)        # old qy of face row r
    fac = np.ones((3, nx + 2))                   # limiter factors: two rows in turn, then ones
    fac_up, up_lo, up_hi = fac[2], -1, -1         # factors and limited columns of row r - 2
    taken = np.empty((2, nx))                    # infiltration and drainage taken in a row
    h_max, rain_s, inf_s, drain_s, out_s = 0.0, 0.0, 0.0, 0.0, 0.0
    b_in, b_out = np.zeros(4), np.zeros(4)       # in/outward discharge summed per grid edge
    for r in range(ny + 2):
        # 1. new discharge on face row r and (r < ny) on the east-west faces of cell row r;
        #    on row 0 the north-south faces computed (from row 0 twice) are discarded
        if r <= ny:
            if r < ny:
                qx_cur[:] = qx[r, :nx + 1]
            qy_cur[:] = qy[r, :nx]
            if r < ny:
                north = max(r - 1, 0)
                _row_faces(qy[r, :nx] if r > 0 else discard, qx[r, :nx + 1], qy_cur, qy_prev,
                           qy[r + 1, :nx], qx_prev, qx_cur, h[north, :nx], h[r, :nx],
                           z[north, :nx], z[r, :nx], _row(n, north)[:nx], _row(n, r)[:nx],
                           blocked[north, :nx], blocked[r, :nx], g_dt_dx, g_dt_4, theta, h_min)
                qx[r, 0] = q_west[r]
                qx[r, nx] = q_east[r]
            if r == 0:
                qy[0, :nx] = q_north
            elif r == ny:
                qy[ny, :nx] = q_south
        # 2. every face of cell row r - 1 is now known: its limiter factors (ones when no cell
        #    is limited), then its east-west faces over the columns of limited cells
        lo, hi = -1, -1
        if 1 <= r <= ny:
            lo, hi = _limit_factors(fac[(r - 1) % 2], qx[r - 1, :nx + 1], qy[r - 1, :nx],
                                    qy[r, :nx], h[r - 1, :nx], blocked[r - 1, :nx], dt, dx)
        fac_row = fac[(r - 1) % 2] if hi >= 0 else fac[2]
        if hi >= 0:
            _scale_faces(qx[r - 1, lo:hi + 2], fac_row[lo:], fac_row[lo:])
        # 3. so does face row r - 1 (between cell rows r - 2 and r - 1), over the columns
        #    limited in either row
        first = lo if up_hi < 0 else (up_lo if hi < 0 else min(lo, up_lo))
        last = max(hi, up_hi)
        if r >= 1 and last >= 0:
            _scale_faces(qy[r - 1, first:last + 1], fac_row[first:], fac_up[first + 1:])
        fac_up, up_lo, up_hi = fac_row, lo, hi
        # the west and east faces of cell row r - 1 and face row r - 1 are final: edge volumes
        if 1 <= r <= ny and r0 <= r - 1 < r1:
            if sides[WEST]:
                b_in[WEST] += max(qx[r - 1, 0], 0.0)
                b_out[WEST] += max(-qx[r - 1, 0], 0.0)
            if sides[EAST]:
                b_in[EAST] += max(-qx[r - 1, nx], 0.0)
                b_out[EAST] += max(qx[r - 1, nx], 0.0)
        if (r == 1 and r0 == 0 and sides[NORTH]) or (r == ny + 1 and r1 == ny and sides[SOUTH]):
            edge, inward = (NORTH, 1.0) if r == 1 else (SOUTH, -1.0)
            for c in range(c0, c1):
                v = inward * qy[r - 1, c]
                b_in[edge] += max(v, 0.0)
                b_out[edge] += max(-v, 0.0)
        # 4. cell row r - 2 has all four faces final: continuity
        if rain_weight is not None and r >= 2:
            rr = r - 2
            whole = c0 == 0 and c1 == nx
            for seg in range(1 if whole else 3):
                a = (0, c0, c1)[seg]
                b = nx if whole else (c0, c1, nx)[seg]
                if b <= a:
                    continue
                m, rs, fs, ds, share, bad = _depth_row(
                    h[rr, a:b], qx[rr, a:b + 1], qy[rr, a:b], qy[rr + 1, a:b], blocked[rr, a:b],
                    _row(rain_weight, rr)[a:b], _row(infiltration_rate, rr)[a:b],
                    _row(drainage_rate, rr)[a:b], dt / dx, rain_rate * dt, dt, taken[0, a:b],
                    taken[1, a:b], _row(watched, rr)[a:b])
                if bad >= 0:
                    return (h_max, rain_s, inf_s, drain_s, b_in, b_out, out_s, rr * nx + a + bad,
                            h[rr, a + bad])
                if r0 <= rr < r1 and (whole or seg == 1):
                    h_max = max(h_max, m)
                    out_s = max(out_s, share)
                    rain_s += rs
                    inf_s += fs
                    drain_s += ds
        qx_prev, qx_cur = qx_cur, qx_prev
        qy_prev, qy_cur = qy_cur, qy_prev
    k = dt * dx
    return h_max, rain_s, inf_s, drain_s, k * b_in, k * b_out, out_s, -1, 0.0


@njit(cache=True, error_model="numpy", nogil=True)
def _update_fluxes(h, z, n, blocked, qx, qy, q_north, q_south, q_east, q_west,
                   dt, dx, theta, h_min, g):
    _sweep(h, z, n, blocked, qx, qy, q_north, q_south, q_east, q_west, dt, dx, theta, h_min,
           g, 0.0, None, None, None, 0, 0, 0, 0, _NO_SIDES, h.shape[0], h.shape[1], None)


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
    _update_fluxes(h, z, _as_rows(n), blocked, qx, qy, q_north, q_south, q_east, q_west,
                   float(dt), float(dx), float(theta), float(h_min), float(g))


@njit(cache=True, error_model="numpy")
def _edge_face(q_out, q_perp, eta_edge, z_edge, h_edge, n_edge, kind, level, slope_in,
               dt, dx, h_min, g):
    """New outward-positive discharge (m^2/s) through one edge face (see edge_fluxes)."""
    if kind == FREE:
        if h_edge <= h_min:
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
def _free_slope(z_in, h_in, z_edge, eta_edge, dx, h_min):
    """Driving slope (-) of a free edge face: the larger of the bed slope and (where the inward
    neighbour is wet) the water-surface slope from the inward neighbour down to the edge cell."""
    bed = (z_in - z_edge) / dx
    if h_in <= h_min:
        return bed
    return max(bed, (z_in + h_in - eta_edge) / dx)


@njit(cache=True, error_model="numpy", nogil=True)
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
            if 0 <= r_in < ny and not blocked[r_in, c]:
                slope = _free_slope(z[r_in, c], h[r_in, c], z[r, c], eta, dx, h_min)
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
            if 0 <= c_in < nx and not blocked[r, c_in]:
                slope = _free_slope(z[r, c_in], h[r, c_in], z[r, c], eta, dx, h_min)
            q_perp = 0.5 * (qy[r, c] + qy[r + 1, c])
            out[r] = sign * _edge_face(sign * qx[r, face_c], q_perp, eta, z[r, c], h[r, c],
                                       n[r, c], kind, level, slope, dt, dx, h_min, g)


def edge_fluxes(h, z, n, blocked, qx, qy, edge_kind, edge_level, dt, dx, h_min=H_MIN, g=G,
                out=None):
    """New discharge on the four outer edges of the grid, from the old state.

    Per edge (order ``NORTH, SOUTH, EAST, WEST``), with ``q_out`` the old discharge counted
    positive out of the domain and ``q_perp`` the mean of the edge cell's two faces across:

    * ``CLOSED``: wall, ``q = 0``.
    * ``FREE``: outflow only, a normal-depth boundary: the local inertial update (Bates et al.
      2010, eq. 11) ``q = max(0, [q_out + g h dt S] / [1 + g dt n^2 |q_vec| / h^(7/3)])``
      with ``h`` the edge cell's depth (no flow where ``h <= h_min``), driven by ``S``, the
      larger of the bed slope from the inward neighbour to the edge cell and, where the
      neighbour is wet, the water-surface slope between them (``S = 0`` where the neighbour is
      blocked or missing). The terrain is taken to go on beyond the edge at the slope it has
      there, as the normal-depth boundary of HEC-RAS 2D (friction slope = a given slope;
      Brunner 2016, HEC-RAS River Analysis System 2D Modeling User's Manual, ch. 3) and
      LISFLOOD-FP's FREE boundary with a slope assume; a steady flow out tends to Manning's
      normal discharge ``h^(5/3) S^(1/2) / n``. Water touching a free edge where the bed is
      flat or rises outwards and the surface is level stays still. Driven by the water
      surface alone the edge cannot pass a river in backwater: its surface at the edge is
      level, the edge shuts, water piles up (3 m at the sample city's outlet) and bores
      reflect up the river; an outflow also keeps its momentum through a momentary reversed
      surface, as an interior face does (tests/test_flood_stability.py).
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


@njit(cache=True, error_model="numpy", nogil=True)
def _update_depth(h, qx, qy, blocked, dt, dx, rain_rate, rain_weight, infiltration_rate,
                  drainage_rate, watched):
    ny, nx = h.shape
    taken = np.empty((2, nx))                    # infiltration and drainage taken in a row
    h_max, rain_s, inf_s, drain_s, out_s = 0.0, 0.0, 0.0, 0.0, 0.0
    for r in range(ny):
        m, rs, fs, ds, share, bad = _depth_row(h[r], qx[r], qy[r], qy[r + 1], blocked[r],
                                               _row(rain_weight, r), _row(infiltration_rate, r),
                                               _row(drainage_rate, r), dt / dx, rain_rate * dt,
                                               dt, taken[0], taken[1], _row(watched, r))
        if bad >= 0:
            return h_max, rain_s, inf_s, drain_s, out_s, r * nx + bad, h[r, bad]
        h_max = max(h_max, m)
        out_s = max(out_s, share)
        rain_s += rs
        inf_s += fs
        drain_s += ds
    return h_max, rain_s, inf_s, drain_s, out_s, -1, 0.0


def update_depth(h, qx, qy, blocked, dt, dx, rain_rate, rain_weight, infiltration_rate,
                 drainage_rate, t_end=0.0, watched=None):
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
    watched : ndarray (ny, nx) of bool, optional
        Cells the outflow rate watches (default all; see :func:`flood_step`).

    Returns
    -------
    tuple of float
        ``(h_max, rain_depth, infiltration_depth, drainage_depth, outflow_rate)``: the largest
        depth (m), the cell sums (m) of what was applied and the largest net outflow share
        per second of a shallow cell (1/s, :attr:`StepVolumes.outflow_rate`).

    Raises
    ------
    FloodInstability
        A depth became non-finite or negative (beyond round-off); ``h`` is then partly updated.
    """
    h_max, rain_s, inf_s, drain_s, share, bad, value = _update_depth(
        h, qx, qy, blocked, float(dt), float(dx), float(rain_rate), _as_rows(rain_weight),
        _as_rows(infiltration_rate), _as_rows(drainage_rate), _watch_rows(watched, h.shape))
    if bad >= 0:
        raise FloodInstability(t_end, *divmod(bad, h.shape[1]), value)
    return h_max, rain_s, inf_s, drain_s, share / float(dt)


def flood_step(h, qx, qy, z, n, blocked, dt, dx, *, edge_kind, edge_level, rain_rate,
               rain_weight, infiltration_rate, drainage_rate, theta=0.8, h_min=H_MIN, g=G,
               t_end=0.0, edge_buffers=None, watched=None) -> StepVolumes:
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
    watched : ndarray (ny, nx) of bool, optional
        Cells whose net outflow sets :attr:`StepVolumes.outflow_rate` (default all): the
        time loops leave out the cells of inflow hydrographs, which pass on water that they
        add after the step.

    Returns
    -------
    StepVolumes
        Largest depth and the volumes applied in the step, and the outflow rate of the
        step control.

    Raises
    ------
    FloodInstability
        The new state is non-finite or negative.
    """
    edges = edge_fluxes(h, z, n, blocked, qx, qy, edge_kind, edge_level, dt, dx, h_min, g,
                        out=edge_buffers)
    # update_fluxes then update_depth, fused into one sweep (rows stay in cache)
    h_max, rain_s, inf_s, drain_s, b_in, b_out, share, bad, value = _sweep(
        h, z, _as_rows(n), blocked, qx, qy, *edges, float(dt), float(dx), float(theta),
        float(h_min), float(g), float(rain_rate), _as_rows(rain_weight),
        _as_rows(infiltration_rate), _as_rows(drainage_rate), 0, h.shape[0], 0, h.shape[1],
        _ALL_SIDES, h.shape[0], h.shape[1], _watch_rows(watched, h.shape))
    if bad >= 0:
        raise FloodInstability(t_end, *divmod(bad, h.shape[1]), value)
    return StepVolumes(h_max, rain_s, inf_s, drain_s, tuple(b_in.tolist()), tuple(b_out.tolist()),
                       share / float(dt))


def tile_step(h, qx, qy, z, n, blocked, dt, dx, *, edge_q, window, sides, rain_rate,
              rain_weight, infiltration_rate, drainage_rate, theta=0.8, h_min=H_MIN, g=G,
              t_end=0.0, shape=None, watched=None) -> StepVolumes:
    """One step on a tile of a larger grid, in place, with given edge discharges and sums
    over a window of cells (the tile's core).

    The same fused sweep as :func:`flood_step` (Bates et al. 2010 eqs. 6 and 11 with the
    de Almeida et al. 2012 theta-weighting; every cell's arithmetic identical), except that the
    four edge face rows/columns take ``edge_q`` as given (from :func:`edge_fluxes` on a true
    domain edge, the old values where the tile borders another tile), and that the largest
    depth and the applied sums count only the cells of ``window``, and the boundary volumes
    only the grid edges in ``sides``.

    Parameters
    ----------
    h, qx, qy : ndarray
        Tile state: depth (m, ny x nx), unit discharges (m^2/s, ny x nx+1 and ny+1 x nx).
        With ``shape`` given they may be larger C-contiguous arrays of which only the leading
        rows and columns are the state, e.g. the planes of ``twin/hazards/flood/tiled.py``'s extended
        layout (one spare row and column): worked on in place, no copy.
    z, n, blocked : ndarray (ny, nx)
        Bed elevation (m), Manning n (s m^-1/3), blocked cells (bool).
    dt, dx : float
        Time step (s) and cell size (m).
    edge_q : tuple of 4 ndarrays
        New discharge (m^2/s) on the ``(north (nx,), south (nx,), east (ny,), west (ny,))``
        edge faces, in the grid's sign convention.
    window : (int, int, int, int)
        Cells ``[r0, r1) x [c0, c1)`` whose largest depth and sums are returned.
    sides : sequence of 4 bool
        Which tile edges ``(north, south, east, west)`` are edges of the whole grid: only
        those count in the boundary volumes, over the window's rows / columns.
    rain_rate : float
        Rain intensity (m/s).
    rain_weight, infiltration_rate, drainage_rate : ndarray (ny, nx)
        Rain multiplier (-) and loss capacities (m/s), see :func:`update_depth`.
    theta, h_min, g : float
        Weighting (-), no-flow depth (m), gravity (m/s^2).
    t_end : float
        Simulated time (s) at the end of the step, to name it in an error.
    shape : (int, int), optional
        The tile's cells ``(ny, nx)``; default ``h.shape``.
    watched : ndarray (ny, nx) of bool, optional
        Cells whose net outflow sets the outflow rate (default all), see :func:`flood_step`.

    Returns
    -------
    StepVolumes
        Over the window: largest depth (m, 0 for an empty window), cell sums (m) of what
        was applied, the volumes (m^3) in and out through the grid edges in ``sides`` and
        the outflow rate (1/s) of the step control.

    Raises
    ------
    FloodInstability
        A depth anywhere on the tile became non-finite or negative.
    """
    r0, r1, c0, c1 = (int(v) for v in window)
    ny, nx = h.shape if shape is None else (int(shape[0]), int(shape[1]))
    if shape is not None and (h.shape[0] < ny or h.shape[1] < nx or qx.shape[0] < ny
                              or qx.shape[1] < nx + 1 or qy.shape[0] < ny + 1 or qy.shape[1] < nx):
        raise ValueError(f"tile_step: shape {(ny, nx)} does not fit the state arrays "
                         f"{h.shape}, {qx.shape}, {qy.shape}")
    h_max, rain_s, inf_s, drain_s, b_in, b_out, share, bad, value = _sweep(
        h, z, _as_rows(n), blocked, qx, qy, *edge_q, float(dt), float(dx), float(theta),
        float(h_min), float(g), float(rain_rate), _as_rows(rain_weight),
        _as_rows(infiltration_rate), _as_rows(drainage_rate), r0, r1, c0, c1,
        np.array(sides, dtype=np.bool_), ny, nx, _watch_rows(watched, (ny, nx)))
    if bad >= 0:
        raise FloodInstability(t_end, *divmod(bad, nx), value)
    return StepVolumes(h_max, rain_s, inf_s, drain_s, tuple(b_in.tolist()), tuple(b_out.tolist()),
                       share / float(dt))
