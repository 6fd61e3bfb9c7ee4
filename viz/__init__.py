"""3D renderings of a city twin and its risk with pyvista: stills, animations, HTML and glTF exports."""
