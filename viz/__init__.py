"""3D renderings of a city twin and its risk with pyvista: stills, animations, HTML and glTF exports
(:func:`viz.render_run.render_run`), and the run report (:mod:`viz.report`, matplotlib only).

Nothing is imported here, so that a module of the package that needs no pyvista (the report, the
``twin report`` parser) loads without pyvista and VTK."""
