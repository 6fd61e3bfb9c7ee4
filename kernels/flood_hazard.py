"""Per-step flood hazard accumulators: maximum depth, speed and unit discharge, arrival, duration.

Pure array functions over the state of :mod:`kernels.flood` (same grid and sign conventions),
updating caller-owned accumulators in place so a time loop keeps no temporaries. SI units.
The compiled loop releases the GIL, so threads can fold several tiles at once.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def _accumulate_row(h, qx, qy_n, qy_s, t_end, dt, wet_threshold, h_min, max_depth, max_speed,
                    max_unit_discharge, arrival_time, wet_duration):
    """Fold one row of cells into its accumulator rows (see accumulate_hazard). Branch-free
    (both outcomes computed, one selected) so that the loop vectorizes over contiguous rows."""
    for c in range(h.size):
        d = h[c]
        max_depth[c] = max(max_depth[c], d)
        wet = d >= wet_threshold
        wet_duration[c] += dt if wet else 0.0
        first = arrival_time[c]
        arrival_time[c] = t_end if wet & np.isnan(first) else first
        qu = 0.5 * (qx[c] + qx[c + 1])
        qv = 0.5 * (qy_n[c] + qy_s[c])
        q = np.sqrt(qu * qu + qv * qv)
        flowing = d > h_min
        max_unit_discharge[c] = max(max_unit_discharge[c], q if flowing else 0.0)
        max_speed[c] = max(max_speed[c], q / d if flowing else 0.0)


@njit(cache=True, error_model="numpy", nogil=True)
def _accumulate(h, qx, qy, t_end, dt, wet_threshold, h_min, max_depth, max_speed,
                max_unit_discharge, arrival_time, wet_duration, r0, c0, ny, nx):
    for r in range(ny):
        rs, c1 = r0 + r, c0 + nx
        _accumulate_row(h[rs, c0:c1], qx[rs, c0:c1 + 1], qy[rs, c0:c1], qy[rs + 1, c0:c1], t_end,
                        dt, wet_threshold, h_min, max_depth[r, :nx], max_speed[r, :nx],
                        max_unit_discharge[r, :nx], arrival_time[r, :nx], wet_duration[r, :nx])


def accumulate_hazard(h, qx, qy, t_end, dt, wet_threshold, h_min, max_depth, max_speed,
                      max_unit_discharge, arrival_time, wet_duration, window=None):
    """Fold the state at the end of a step into the hazard accumulators, in place.

    The cell-centred unit discharge is the mean of the two opposite faces in each direction,
    ``q = |(qx_w + qx_e)/2, (qy_n + qy_s)/2|`` (m^2/s), and the speed is ``v = q / h`` (m/s),
    counted only where ``h > h_min`` (thin films give meaningless speeds). A cell is wet when
    ``h >= wet_threshold``; its arrival time is the end of the first step that leaves it wet,
    and each step that ends wet adds its ``dt`` to the wet duration.

    Parameters
    ----------
    h : ndarray (ny, nx)
        Depth at the end of the step (m).
    qx, qy : ndarray (ny, nx+1), (ny+1, nx)
        Unit discharges of the step (m^2/s).
    t_end : float
        Simulated time at the end of the step (s).
    dt : float
        Step length (s).
    wet_threshold : float
        Depth (m) from which a cell counts as flooded.
    h_min : float
        Depth (m) below which no speed is recorded.
    max_depth, max_speed, max_unit_discharge : ndarray (ny, nx) (or the window's shape)
        Running maxima of depth (m), speed (m/s) and unit discharge (m^2/s), start at 0.
    arrival_time : ndarray (ny, nx)
        First wet time (s), NaN until wet.
    wet_duration : ndarray (ny, nx)
        Time spent wet (s), starts at 0.
    window : (int, int, int, int), optional
        Cells ``[r0, r1) x [c0, c1)`` of the state to fold in (default: all); the accumulators
        then hold that window from their own row and column 0 (they may be larger, e.g. a
        tile's core with a spare row or column, which is left alone).
    """
    r0, r1, c0, c1 = (0, h.shape[0], 0, h.shape[1]) if window is None else window
    accs = (max_depth, max_speed, max_unit_discharge, arrival_time, wet_duration)
    if not (0 <= r0 <= r1 <= h.shape[0] and 0 <= c0 <= c1 <= h.shape[1]) or any(
            a.shape[0] < r1 - r0 or a.shape[1] < c1 - c0 for a in accs):
        raise ValueError(f"accumulate_hazard: window {(r0, r1, c0, c1)} is not inside the state "
                         f"{h.shape} or larger than an accumulator {[a.shape for a in accs]}")
    _accumulate(h, qx, qy, float(t_end), float(dt), float(wet_threshold), float(h_min),
                max_depth, max_speed, max_unit_discharge, arrival_time, wet_duration,
                int(r0), int(c0), int(r1) - int(r0), int(c1) - int(c0))
