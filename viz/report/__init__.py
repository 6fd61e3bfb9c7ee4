"""The run report: one self-contained, printable HTML page (and its PDF) that tells a run's story.

Modules: :mod:`~viz.report.data` (reading the run folder), :mod:`~viz.report.words` (numbers and
names in words), :mod:`~viz.report.tables`, :mod:`~viz.report.maps` and :mod:`~viz.report.charts`
(what is shown), :mod:`~viz.report.png` (figures as embedded PNG), :mod:`~viz.report.html` and
:mod:`~viz.report.sections` (the page), :mod:`~viz.report.pdf` (headless Chromium),
:mod:`~viz.report.write` (:func:`~viz.report.write.write_report`), :mod:`~viz.report.cli`
(``twin report``).

``viz.report.write_report`` is imported on first use, so that the ``twin`` command's parser
(which adds :mod:`viz.report.cli`) does not load matplotlib and xarray.
"""


def __getattr__(name: str):
    if name == "write_report":
        from viz.report.write import write_report

        return write_report
    raise AttributeError(f"module 'viz.report' has no attribute {name!r}")
