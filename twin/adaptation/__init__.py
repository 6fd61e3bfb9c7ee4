"""Adaptation: measures built into the twin (walls, raised floors, green land, basins, pumps,
firebreaks, retrofits), grouped in strategies, run against the baseline and compared.

Stage order: after :mod:`twin.pipeline` (the comparison runs the baseline and each strategy
through the one run path, :mod:`twin.pipeline.run`), before :mod:`twin.cli`. Measures reach a
hazard only through its declared :class:`twin.hazards.interface.Adaptation`, never by its name.

* :mod:`.schema`: the strategy file (measures, economics), YAML with lines;
* :mod:`.places`: where a measure is on the grid (lines, areas, points, buildings);
* :mod:`.measures`: one class per measure type (:data:`.measures.MEASURES`) and the plan of a strategy;
* :mod:`.adapted`: the hazard with a plan applied (its prepared inputs and building impact changed);
* :mod:`.economics`: present value and benefit-cost ratio;
* :mod:`.difference`: difference maps and avoided losses of two run folders;
* :mod:`.layer`: the measures as a vector layer;
* :mod:`.compare`: ``twin compare``: baseline and strategies into one comparison folder.
"""
