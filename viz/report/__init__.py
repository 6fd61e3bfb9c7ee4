"""The run report: one self-contained, printable HTML page (and its PDF) that tells a run's story.

Modules: :mod:`~viz.report.data` (reading the run folder), :mod:`~viz.report.words` (numbers and
names in words), :mod:`~viz.report.tables`, :mod:`~viz.report.maps` and :mod:`~viz.report.charts`
(what is shown), :mod:`~viz.report.png` (figures as embedded PNG), :mod:`~viz.report.html` and
:mod:`~viz.report.sections` (the page), :mod:`~viz.report.pdf` (headless Chromium),
:mod:`~viz.report.write` (:func:`write_report`), :mod:`~viz.report.cli` (``twin report``).
"""

from viz.report.write import write_report  # noqa: F401  (the entry point)
