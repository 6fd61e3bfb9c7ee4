"""3D renderings of a city twin and its risk with pyvista: stills, animations, HTML and glTF exports."""

from viz.render_run import render_run  # noqa: E402,F401  (the entry point the CLI calls)
