"""Expected annual damage over a design-storm event set: the loss-exceedance curve and its integral.

The expected annual damage is the integral of the loss over the annual exceedance probability,
``EAD = int_0^1 L(p) dp``, approximated by the trapezoid rule over the events' points
``(p_k, L_k)``, ``p_k = 1/T_k`` (:func:`twin.events.frequency.annual_exceedance`)
(Olsen, Zhou, Linde & Arnbjerg-Nielsen 2015, Water 7(1), 255-270, eqs. 1-2; CLIMADA's
``Impact.eai_exp`` per asset and ``aai_agg`` in all, Aznar-Siguan & Bresch 2019).

The set covers only the return periods it holds; what lies outside is a choice, made explicit:

* frequent end, ``protection_rp`` = P (years): the drainage carries every storm of return
  period <= P, so events with T <= P do no damage and the curve is 0 at p = 1/P, rising
  linearly to the first event beyond P. P = 0 (none): the curve starts at the most frequent
  event; storms more frequent than it add nothing (a lower bound: set P to the drainage standard).
* rare end, ``tail``: ``truncate``, nothing rarer than the largest return period (a lower
  bound); ``constant``, the largest event's loss held from its AEP to AEP 0 (adds ``p_n L_n``);
  ``linear``, the segment between the two rarest events extended linearly in AEP to AEP 0 (never
  the ramp from the protection point), not below 0 and, when ``max_loss`` is given (e.g. the
  value exposed), not above it.

Losses are per event and per item (cell, building or the total): an array (n_events, ...)
with events in increasing return period; every item is integrated at once.
"""

from __future__ import annotations

import numpy as np

from twin.events.frequency import annual_exceedance, event_rows

#: Conventions for the curve beyond the largest return period (module docstring).
TAILS = ("truncate", "constant", "linear")
#: What each rare-end convention adds, in words (``summary.json``).
TAIL_MEANINGS = {
    "truncate": "nothing rarer than the largest return period counted (a lower bound)",
    "constant": "the largest event's loss held from its AEP to AEP 0",
    "linear": "the segment between the two rarest events extended linearly in AEP to AEP 0, "
              "not below 0 and not above the value exposed",
}


def tail_conventions(protection_rp: float, tail: str) -> dict:
    """The ends of the loss-exceedance curve, in words, as ``summary.json`` reports them.

    Parameters
    ----------
    protection_rp : float
        P (years), 0 for none (:func:`loss_curve`).
    tail : {"truncate", "constant", "linear"}
        The rare end.

    Returns
    -------
    dict
        ``protection_rp_years``, ``frequent_end`` (its meaning), ``tail``, ``rare_end`` (its meaning)
        and ``rule`` (the integration).
    """
    frequent = (f"no loss from storms of return period <= {protection_rp:g} years: the curve is 0 at AEP "
                f"{1.0 / protection_rp:g} per year and linear to the first event beyond" if protection_rp > 0 else
                "the curve starts at the most frequent event; more frequent storms add nothing (a lower bound)")
    return {"protection_rp_years": float(protection_rp), "frequent_end": frequent, "tail": tail,
            "rare_end": TAIL_MEANINGS[tail],
            "rule": "trapezoid rule of the loss over the annual exceedance probability AEP = 1/T (Olsen et al. "
                    "2015, eqs. 1-2; CLIMADA's eai_exp / aai_agg with the events' trapezoid weights)"}


def _rare_tail(aep: np.ndarray, loss: np.ndarray, tail: str, max_loss) -> np.ndarray | None:
    """The curve's loss at AEP 0 for ``tail`` from the events' points, or None for ``truncate``."""
    if tail == "truncate":
        return None
    if tail == "constant":
        return loss[-1]
    if aep.size < 2:
        raise ValueError("tail 'linear' needs at least two events beyond protection_rp")
    slope = (loss[-1] - loss[-2]) / (aep[-2] - aep[-1])  # loss gained per unit of AEP towards rarer events
    at_zero = np.maximum(loss[-1] + slope * aep[-1], 0.0)
    return at_zero if max_loss is None else np.minimum(at_zero, max_loss)


def loss_curve(return_periods: np.ndarray, losses: np.ndarray, protection_rp: float = 0.0,
               tail: str = "constant", max_loss: np.ndarray | float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The loss-exceedance curve integrated for the EAD: the events' points and the tails' (module docstring).

    Parameters
    ----------
    return_periods : numpy.ndarray (n_events,)
        Return periods T (years), > 0, strictly increasing.
    losses : numpy.ndarray (n_events, ...)
        Loss of each event, per item (any unit, e.g. KRW), >= 0.
    protection_rp : float, optional
        P (years): no loss from storms of return period <= P; 0 for none.
    tail : {"truncate", "constant", "linear"}, optional
        The curve beyond the largest return period.
    max_loss : array_like, optional
        Upper bound of the ``linear`` tail's loss at AEP 0, broadcast against one event's losses.

    Returns
    -------
    aep : numpy.ndarray (m,)
        Annual exceedance probabilities (1/year), decreasing: 1/P when P > 0, the events' 1/T
        beyond P, then 0 unless ``tail`` is ``truncate``.
    loss : numpy.ndarray (m, ...)
        The loss at each of them.
    """
    t, losses = event_rows(return_periods, losses)
    if tail not in TAILS:
        raise ValueError(f"tail must be one of {', '.join(TAILS)}; found {tail!r}")
    if not 0 <= protection_rp < t[-1]:
        raise ValueError(f"protection_rp must be >= 0 and below the largest return period {t[-1]:g}; "
                         f"found {protection_rp:g}")
    kept = t > protection_rp
    aep = annual_exceedance(t[kept])
    loss = losses[kept]
    at_zero = _rare_tail(aep, loss, tail, max_loss)
    if protection_rp > 0:
        aep = np.concatenate([[1.0 / protection_rp], aep])
        loss = np.concatenate([np.zeros((1,) + losses.shape[1:]), loss])
    if at_zero is not None:
        aep = np.concatenate([aep, [0.0]])
        loss = np.concatenate([loss, np.broadcast_to(at_zero, losses.shape[1:])[None]])
    return aep, loss


def expected_annual_damage(return_periods: np.ndarray, losses: np.ndarray, protection_rp: float = 0.0,
                           tail: str = "constant", max_loss: np.ndarray | float | None = None) -> np.ndarray:
    """Expected annual damage per item: the trapezoid rule over :func:`loss_curve`.

    ``EAD = sum_k (p_k - p_(k+1)) (L_k + L_(k+1)) / 2`` over the curve's points (Olsen et al.
    2015, eq. 2). Parameters as :func:`loss_curve`.

    Returns
    -------
    numpy.ndarray (...)
        Expected annual damage (the losses' unit per year), one per item.
    """
    aep, loss = loss_curve(return_periods, losses, protection_rp, tail, max_loss)
    widths = (aep[:-1] - aep[1:]).reshape((-1,) + (1,) * (loss.ndim - 1))
    return np.sum(widths * 0.5 * (loss[:-1] + loss[1:]), axis=0)
