"""IDF relations (twin.events.idf, twin.events.idf_csv, twin.events.frequency): interpolation
against hand-computed values, the formula, the sample table, and every bad table refused with its
file, line and column."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

from twin.core.errors import InputError
from twin.events.frequency import annual_exceedance, gumbel_variate, interpolate_return_period
from twin.events.idf import IdfFormula
from twin.events.idf_csv import read_idf_table
from twin.scenario.units import MM_PER_H

SAMPLE = Path(__file__).resolve().parent.parent / "twin" / "events" / "data" / "idf_sample.csv"


def _table(tmp_path, text: str, name: str = "idf.csv") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _mm_h(values) -> np.ndarray:
    return np.asarray(values) / MM_PER_H


# ---------------------------------------------------------------- interpolation, by hand

def test_duration_interpolation_is_linear_in_log_log(tmp_path):
    """100 mm/h at 10 min and 40 mm/h at 60 min: at 30 min, 100 (30/10)^(ln 0.4 / ln 6) = 57.017 mm/h."""
    path = _table(tmp_path, """
        duration_min,T2
        10,100
        60,40
    """)
    idf = read_idf_table(path)
    assert _mm_h(idf.intensity(30 * 60.0, 2)) == pytest.approx(57.016979, rel=1e-7)
    # exact at the table's own durations, in s inside
    assert _mm_h(idf.intensity(np.array([600.0, 3600.0]), 2)) == pytest.approx([100.0, 40.0], rel=1e-12)


def test_return_period_interpolation_is_linear_in_the_gumbel_variate(tmp_path):
    """50 mm/h at T = 2 and 80 mm/h at T = 10: y_2 = 0.366513, y_5 = 1.499940, y_10 = 2.250367, so
    T = 5 gives 50 + 30 (1.499940 - 0.366513) / (2.250367 - 0.366513) = 68.0496 mm/h."""
    path = _table(tmp_path, """
        duration_min,T2,T10
        10,50,80
        60,20,30
    """)
    idf = read_idf_table(path)
    assert _mm_h(idf.intensity(600.0, 5)) == pytest.approx(68.049597, rel=1e-7)
    assert _mm_h(idf.intensity(600.0, 10)) == pytest.approx(80.0, rel=1e-12)


def test_gumbel_variate_and_aep_by_hand():
    assert gumbel_variate(np.array([2.0, 100.0])) == pytest.approx([-math.log(math.log(2)),
                                                                    -math.log(-math.log(0.99))], rel=1e-14)
    assert annual_exceedance(np.array([2.0, 50.0, np.inf])) == pytest.approx([0.5, 0.02, 0.0])
    with pytest.raises(ValueError, match="> 1 year"):
        gumbel_variate(1.0)
    with pytest.raises(ValueError, match="no extrapolation"):
        interpolate_return_period(np.array([2.0, 10.0]), np.array([1.0, 2.0]), 20.0)


def test_formula_by_hand():
    """I = a / (t^n + b): 1060 / (60^0.7 + 6) = 1060 / 23.567335 = 44.977509 mm/h at 1 h."""
    f = IdfFormula(return_periods=np.array([2.0, 10.0]), source="test", a=np.array([1060.0, 1650.0]),
                   b=np.array([6.0, 6.0]), n=np.array([0.7, 0.7]))
    assert _mm_h(f.intensity(3600.0, 2)) == pytest.approx(44.977509, rel=1e-7)
    assert _mm_h(f.intensity(3600.0, 10)) == pytest.approx(1650 / 23.567335, rel=1e-7)
    with pytest.raises(InputError, match="return period outside the IDF relation"):
        f.intensity(3600.0, 20)


def test_sample_table_is_the_formula_its_header_states():
    """The sample's header: a_T = 946 + 312 y_T, b = 6, n = 0.7, values rounded to 0.1 mm/h."""
    idf = read_idf_table(SAMPLE)
    header = SAMPLE.read_text().splitlines()
    assert header[0].startswith("# ILLUSTRATIVE")
    a = 946 + 312 * gumbel_variate(idf.return_periods)
    expected = a / ((idf.durations_s[:, None] / 60) ** 0.7 + 6)
    assert np.max(np.abs(_mm_h(idf.intensity_m_s) - expected)) <= 0.05 + 1e-9
    # between listed durations and return periods the interpolation stays within 1 % of the formula
    t20 = 946 + 312 * gumbel_variate(20.0)
    for minutes in (15.0, 45.0, 100.0, 150.0):
        assert _mm_h(idf.intensity(minutes * 60, 20)) == pytest.approx(t20 / (minutes ** 0.7 + 6), rel=0.01)
    y40 = 946 + 312 * gumbel_variate(40.0)
    assert _mm_h(idf.intensity(7200.0, 40)) == pytest.approx(y40 / (120 ** 0.7 + 6), rel=0.005)


def test_coverage_refuses_a_storm_outside_the_table():
    idf = read_idf_table(SAMPLE)
    with pytest.raises(InputError, match="storm or block duration outside the IDF relation") as info:
        idf.check_covers([2 * 86400.0], [10])
    assert "idf_sample.csv" in str(info.value) and "2880 min" in str(info.value)
    with pytest.raises(InputError, match="return period outside") as info:
        idf.check_covers([3600.0], [1000])
    assert "1000 years" in str(info.value)


# ---------------------------------------------------------------- bad tables

BAD_TABLES = {
    "missing value": ("duration_min,T2,T5\n10,100,\n60,40,50\n", 2, "T5", "missing value"),
    "missing return period column": ("duration_min,T2,,T10\n10,100,110,120\n60,40,45,50\n", 1, "",
                                     "bad return-period column"),
    "not a number": ("duration_min,T2\n10,abc\n60,40\n", 2, "T2", "not a finite number > 0"),
    "negative": ("duration_min,T2\n10,-1\n60,40\n", 2, "T2", "not a finite number > 0"),
    "wrong columns": ("duration_min,T2,T5\n10,100\n60,40,50\n", 2, None, "wrong number of columns"),
    "one duration": ("duration_min,T2\n10,100\n", None, "duration_min", "at least two durations"),
    "bad header": ("minutes,T2\n10,100\n60,40\n", 1, None, "bad header"),
    "return period below 1": ("duration_min,T0.5,T2\n10,90,100\n60,30,40\n", 1, "T0.5", "> 1 year"),
    "return periods unsorted": ("duration_min,T10,T5\n10,120,110\n60,50,45\n", 1, "T5", "increase strictly"),
    "durations unsorted": ("duration_min,T2\n60,40\n10,100\n", 3, "duration_min", "durations must increase"),
    "less intense at a longer return period": ("duration_min,T2,T5\n10,100,110\n60,40,39\n", 3, "T5",
                                               "longer return period must not be less intense"),
    "intensity increasing with duration": ("duration_min,T2\n10,100\n60,120\n", 3, "T2",
                                           "intensity must not increase"),
    "depth decreasing with duration": ("duration_min,T2\n10,100\n60,10\n", 3, "T2", "depth"),
    "empty file": ("# only a comment\n", None, None, "no header"),
}


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_bad_table_is_refused_with_file_line_and_column(tmp_path, case):
    text, line, column, message = BAD_TABLES[case]
    path = _table(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_idf_table(path)
    said = str(info.value)
    assert message in said
    assert str(path) in said
    if line is not None:
        assert f"(line {line})" in said
    if column:
        assert info.value.field == column


def test_comment_lines_count_in_line_numbers(tmp_path):
    path = _table(tmp_path, "# a comment\n# another\nduration_min,T2\n10,100\n60,x\n")
    with pytest.raises(InputError, match=r"\(line 5\)"):
        read_idf_table(path)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read the IDF table"):
        read_idf_table(tmp_path / "nope.csv")
