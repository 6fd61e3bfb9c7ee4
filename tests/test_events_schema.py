"""The ``events:`` block (twin.events.schema): the issue's example validates, durations become
seconds, and bad blocks are refused with the YAML path and line, as a scenario block would be."""

from __future__ import annotations

import textwrap

import pytest

from twin.core.errors import InputError
from twin.core.validation import validate
from twin.core.yamlio import load_yaml_with_lines
from twin.events.schema import EventsSpec, IdfFormulaSpec, IdfTableSpec
from twin.scenario.schema import Frozen


class _Scenario(Frozen):
    """A scenario holding only the block, as phase 2 will register it."""

    events: EventsSpec


ISSUE_EXAMPLE = """
    events:
      return_periods: [2, 5, 10, 30, 50, 100, 200, 500]    # years
      storm_duration: 2 h
      idf:                                                  # either a table ...
        table: idf_daejeon.csv                              #   intensity (mm/h) by duration and return period
      temporal: {huff: 3}                                   # Huff quartile 1-4 (Korean practice: 3rd)
      areal_reduction: 1.0                                  # optional factor
      protection_rp: 0                                      # optional
"""

FORMULA = """
    events:
      return_periods: [2, 10, 100]
      storm_duration: 90 min
      idf:
        formula: a/(t^n+b)
        coefficients:
          - {return_period: 2, a: 1060, b: 6, n: 0.7}
          - {return_period: 100, a: 2380, b: 6, n: 0.7}
      temporal: {alternating_block: {block: 10 min}}
      protection_rp: 5
      tail: linear
"""


def _load(tmp_path, text: str):
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    data, lines = load_yaml_with_lines(path)
    return path, data, lines


def _events(tmp_path, text: str) -> EventsSpec:
    path, data, lines = _load(tmp_path, text)
    return validate(_Scenario, data, lines, path).events


def _error(tmp_path, text: str) -> str:
    path, data, lines = _load(tmp_path, text)
    with pytest.raises(InputError) as info:
        validate(_Scenario, data, lines, path)
    return str(info.value)


def test_the_issue_example_validates_with_documented_defaults(tmp_path):
    events = _events(tmp_path, ISSUE_EXAMPLE)
    assert events.return_periods == [2, 5, 10, 30, 50, 100, 200, 500]
    assert events.storm_duration == 7200.0
    assert isinstance(events.idf, IdfTableSpec) and events.idf.table == "idf_daejeon.csv"
    assert events.temporal.huff == 3 and events.temporal.alternating_block is None
    assert (events.areal_reduction, events.protection_rp, events.tail) == (1.0, 0.0, "constant")
    assert events.idf_durations_s().tolist() == [7200.0]


def test_a_formula_block_validates_and_gives_its_relation(tmp_path):
    events = _events(tmp_path, FORMULA)
    assert isinstance(events.idf, IdfFormulaSpec)
    assert events.temporal.alternating_block.block == 600.0
    assert events.idf_durations_s().tolist() == [600.0 * k for k in range(1, 10)]
    relation = events.idf.relation("scenario.yaml: events.idf")
    assert relation.return_periods.tolist() == [2.0, 100.0] and relation.a.tolist() == [1060.0, 2380.0]


def _variant(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


BAD = {
    "return periods unsorted": (ISSUE_EXAMPLE, "[2, 5, 10, 30,", "[2, 10, 5, 30,",
                                "events.return_periods: must increase strictly; found 10 then 5", 2),
    "return period below 1 year": (ISSUE_EXAMPLE, "[2, 5,", "[0.5, 5,", "events.return_periods[0]", 2),
    "return period of 1 year": (ISSUE_EXAMPLE, "[2, 5,", "[1, 5,", "greater than 1", 2),
    "storm duration without a unit we know": (ISSUE_EXAMPLE, "2 h", "2 fortnights", "events.storm_duration", 3),
    "Huff quartile 5": (ISSUE_EXAMPLE, "{huff: 3}", "{huff: 5}", "events.temporal.huff", 6),
    "two temporal patterns": (ISSUE_EXAMPLE, "{huff: 3}", "{huff: 3, alternating_block: {block: 10 min}}",
                              "give exactly one of", 6),
    "block not dividing the storm": (FORMULA, "block: 10 min", "block: 7 min", "must divide storm_duration", 9),
    "protection below 1 year": (ISSUE_EXAMPLE, "protection_rp: 0 ", "protection_rp: 0.5 ",
                                "events.protection_rp: 0 (none) or a return period >= 1 year", 8),
    "protection at the largest event": (ISSUE_EXAMPLE, "protection_rp: 0 ", "protection_rp: 500 ",
                                        "must be below the largest return period", 8),
    "linear tail with one point": (FORMULA.replace("protection_rp: 5", "protection_rp: 0"),
                                   "return_periods: [2, 10, 100]", "return_periods: [100]",
                                   "events.tail: 'linear' extrapolates the two rarest events", 11),
    "areal reduction above 1": (ISSUE_EXAMPLE, "areal_reduction: 1.0 ", "areal_reduction: 1.2 ",
                                "events.areal_reduction", 7),
    "unknown key": (ISSUE_EXAMPLE, "protection_rp: 0 ", "protection: 0 ", "events.protection: unknown key", 8),
    "formula not covering the set": (FORMULA, "return_period: 100,", "return_period: 50,",
                                     "do not cover the event set's 2-100 years", 4),
    "formula less intense at a longer return period": (FORMULA, "a: 2380", "a: 900",
                                                       "a longer return period must not be less intense", 4),
    "formula of another form": (FORMULA, "a/(t^n+b)", "a/(t+b)^n", "events.idf.formula", 5),
    "formula exponent above 1": (FORMULA, "n: 0.7}\n      temporal", "n: 1.3}\n      temporal",
                                 "events.idf.coefficients[1].n", 8),
    "coefficients unsorted": (FORMULA, "return_period: 2,", "return_period: 200,",
                              "events.idf.coefficients: must increase strictly", 6),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_block_is_refused_with_its_path_and_line(tmp_path, case):
    text, old, new, message, line = BAD[case]
    said = _error(tmp_path, _variant(text, old, new))
    assert message in said
    assert "scenario.yaml" in said
    row = next(r for r in said.splitlines() if message in r or message.split(":")[0] in r)
    assert row.endswith(f"(line {line})"), said


def test_every_field_error_is_reported_at_once(tmp_path):
    text = _variant(_variant(ISSUE_EXAMPLE, "{huff: 3}", "{huff: 7}"), "2 h", "soon")
    said = _error(tmp_path, text)
    assert "2 errors" in said and "events.temporal.huff" in said and "events.storm_duration" in said
