"""The economics of a strategy: the present value of its avoided annual damage against its cost.

The benefit is the avoided expected annual damage B (KRW/yr) received at the end of each year of
the lifetime N (years), discounted at the rate r (per year):
``PV = B sum_{t=1}^{N} (1 + r)^-t = B (1 - (1 + r)^-N) / r`` (``B N`` at r = 0), the present value
of an ordinary annuity (e.g. Boardman et al. 2018, Cost-Benefit Analysis, 5th ed., ch. 6; the
discounted sum of CLIMADA's ``CostBenefit``, Aznar-Siguan & Bresch 2019, with a constant benefit).
The benefit-cost ratio is PV over the measures' cost (paid at the start, undiscounted).
"""

from __future__ import annotations


def annuity_factor(lifetime_years: int, discount_rate: float) -> float:
    """``sum_{t=1}^{N} (1 + r)^-t`` (years): what one KRW a year for N years is worth now.

    Parameters
    ----------
    lifetime_years : int
        N (years), >= 1.
    discount_rate : float
        r (per year), >= 0.
    """
    if discount_rate == 0:
        return float(lifetime_years)
    return (1.0 - (1.0 + discount_rate) ** -lifetime_years) / discount_rate


def benefit_cost(avoided_ead_krw: float, cost_krw: float, lifetime_years: int, discount_rate: float) -> dict:
    """The present value of the avoided EAD and the benefit-cost ratio (module docstring).

    Parameters
    ----------
    avoided_ead_krw : float
        B (KRW/yr): the baseline's EAD less the strategy's (negative when the strategy does worse).
    cost_krw : float
        The measures' cost (KRW), >= 0.
    lifetime_years, discount_rate
        N and r (:func:`annuity_factor`).

    Returns
    -------
    dict
        ``avoided_ead_krw_per_year``, ``lifetime_years``, ``discount_rate``, ``annuity_factor``,
        ``present_value_krw``, ``cost_krw``, ``benefit_cost_ratio`` (None for a cost of 0) and
        ``net_present_value_krw`` (PV less the cost).
    """
    factor = annuity_factor(lifetime_years, discount_rate)
    pv = avoided_ead_krw * factor
    return {"avoided_ead_krw_per_year": float(avoided_ead_krw), "lifetime_years": int(lifetime_years),
            "discount_rate": float(discount_rate), "annuity_factor": float(factor), "present_value_krw": float(pv),
            "cost_krw": float(cost_krw), "benefit_cost_ratio": float(pv / cost_krw) if cost_krw > 0 else None,
            "net_present_value_krw": float(pv - cost_krw)}
