"""A progress bar of simulated time (tqdm), shown on stderr when enabled."""

from __future__ import annotations

from tqdm import tqdm


class SimTimeBar:
    """Context manager whose :meth:`update` is a ``progress(t_sim, duration)`` callback.

    Parameters
    ----------
    duration : float
        Simulated duration (s).
    enabled : bool
        Show the bar (False: updates do nothing).
    label : str
        Text before the bar.
    """

    def __init__(self, duration: float, enabled: bool = True, label: str = ""):
        self._bar = tqdm(total=round(duration), unit="sim-s", desc=label, disable=not enabled,
                         mininterval=0.5, leave=False)
        self._done = 0

    def update(self, t_sim: float, duration: float) -> None:
        """Advance the bar to simulated time ``t_sim`` (s)."""
        now = min(round(t_sim), round(duration))
        if now > self._done:
            self._bar.update(now - self._done)
            self._done = now

    def __enter__(self) -> "SimTimeBar":
        return self

    def __exit__(self, *exc) -> None:
        self._bar.close()


class CountBar:
    """Context manager counting finished items (e.g. ensemble members) with tqdm."""

    def __init__(self, total: int, unit: str, enabled: bool = True):
        self._bar = tqdm(total=total, unit=unit.rstrip("s"), desc=unit, disable=not enabled, leave=False)

    def advance(self) -> None:
        """One more item finished."""
        self._bar.update(1)

    def __enter__(self) -> "CountBar":
        return self

    def __exit__(self, *exc) -> None:
        self._bar.close()
