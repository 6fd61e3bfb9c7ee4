"""The interactive viewer of a run: one self-contained HTML page drawn with WebGL 2.

``classes`` (stepped classes and legends), ``layers`` (what a run offers), ``payload`` (the data,
packed), ``page`` (the HTML file; :func:`viz.viewer.page.write_viewer`), and the page's own
``page.html``, ``viewer.css`` and ``viewer.js``.
"""
