"""City digital twin: grids, scenarios, time loops, risk, outputs and the command line.

The twin layer sits between the pure numerical kernels (:mod:`kernels`) and the renderings
(:mod:`viz`); see ``docs/architecture.md``.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

#: The distribution the package is installed as (``pyproject.toml``'s ``project.name``).
DISTRIBUTION = "city-twin"


def _version() -> str:
    """The installed distribution's version; in a source checkout that is not installed, the
    version ``pyproject.toml`` beside the package gives; else ``"unknown"``."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    import tomllib

    try:
        with open(Path(__file__).resolve().parents[1] / "pyproject.toml", "rb") as f:
            project = tomllib.load(f).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return "unknown"
    return str(project.get("version", "unknown")) if project.get("name") == DISTRIBUTION else "unknown"


__version__ = _version()
