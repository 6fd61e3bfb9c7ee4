"""Depth-damage curves (JRC Asia, user CSV), depth above the first floor, building unit values and
first-floor heights, storeys and the combined risk class."""

from __future__ import annotations

import numpy as np
import pytest

from twin.core.classes import BUILDING_USE
from twin.risk.vulnerability import (RISK_CLASSES, damage_fraction, depth_above_floor, load_curves, load_values,
                                     risk_class, risk_class_legend, risk_index, storeys)
from twin.core.errors import InputError

DEPTHS = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0]
#: Huizinga et al. (2017), Asia, as published (typed here independently of the shipped CSV).
JRC_ASIA = {
    "residential": [0, 0.327, 0.494, 0.617, 0.721, 0.870, 0.931, 0.984, 1.0],
    "commercial": [0, 0.377, 0.538, 0.659, 0.763, 0.883, 0.942, 0.981, 1.0],
    "industrial": [0, 0.283, 0.482, 0.629, 0.717, 0.857, 0.909, 0.955, 1.0],
}
RES, COM, IND, PUB = (BUILDING_USE[u] for u in ("residential", "commercial", "industrial", "public"))


@pytest.mark.parametrize("use", JRC_ASIA)
def test_jrc_curves_at_their_points(use):
    curves = load_curves()
    got = damage_fraction(np.array(DEPTHS), BUILDING_USE[use], curves)
    assert got.tolist() == JRC_ASIA[use]


def test_between_points_beyond_6m_and_dry():
    curves = load_curves()
    depth = np.array([0.25, 2.5, 5.5, 6.0001, 12.0, 0.0])
    got = damage_fraction(depth, RES, curves)
    expected = [0.327 / 2, (0.721 + 0.870) / 2, (0.984 + 1.0) / 2, 1.0, 1.0, 0.0]
    assert np.allclose(got, expected, rtol=1e-14, atol=0)


def test_public_buildings_use_the_commercial_curve():
    curves = load_curves()
    depth = np.linspace(0, 7, 29)
    assert np.array_equal(damage_fraction(depth, PUB, curves), damage_fraction(depth, COM, curves))


def test_unknown_use_code_raises():
    with pytest.raises(InputError, match="unknown building-use codes"):
        damage_fraction(np.array([0.5]), np.array([0]), load_curves())


def test_user_curves_with_public_column(tmp_path):
    path = tmp_path / "curves.csv"
    path.write_text("# my curves\ndepth_m,residential,commercial,industrial,public\n"
                    "0,0,0,0,0\n1,0.5,0.4,0.3,0.2\n2,1,1,1,1\n", encoding="utf-8")
    curves = load_curves(path)
    got = damage_fraction(np.array([0.5, 0.5, 3.0]), np.array([PUB, IND, RES]), curves)
    assert got.tolist() == [0.1, 0.15, 1.0]


@pytest.mark.parametrize("body, match", [
    ("depth_m,residential,commercial,industrial\n0,0,0,0\n1,0.5,x,0.5\n", r"commercial: not a finite number.*line 4"),
    ("depth_m,residential,commercial,industrial\n0,0,0,0\n1,0.5,0.4,0.5\n2,0.4,0.6,0.7\n",
     r"residential: fractions must .* \(line 5\)"),
    ("depth_m,residential,commercial,industrial\n0,0,0,0\n1,0.5,0.4,1.5\n", r"industrial: fractions .*line 4"),
    ("depth_m,residential,commercial,industrial\n0,0,0,0\n1,0.5,0.4,0.5\n1,0.6,0.6,0.6\n",
     r"depth_m: depths must increase.*line 5"),
    ("depth_m,residential,commercial\n0,0,0\n1,1,1\n", "no curve for industrial"),
    ("depth,residential,commercial,industrial\n0,0,0,0\n1,1,1,1\n", "bad header"),
    ("depth_m,residential,commercial,industrial,school\n0,0,0,0,0\n", "bad header"),
    ("depth_m,residential,commercial,industrial\n0.5,0,0,0\n1,1,1,1\n", "first at depth 0"),
    ("depth_m,residential,commercial,industrial\n0,0,0,0\n1,1,1\n", r"wrong number of columns.*line 4"),
])
def test_bad_curve_files_name_file_column_and_line(tmp_path, body, match):
    path = tmp_path / "bad.csv"
    path.write_text("# comment line\n" + body, encoding="utf-8")
    with pytest.raises(InputError, match=match) as err:
        load_curves(path)
    assert str(path) in str(err.value)


def test_default_values_and_overrides(tmp_path):
    default = load_values()
    assert default.storey_height_m == 3.0
    assert set(default.unit_value_krw_per_m2) == set(BUILDING_USE)
    changed = load_values(overrides={"unit_value_krw_per_m2": {"residential": 2.5e6}, "storey_height_m": 3.5})
    assert changed.unit_value_krw_per_m2["residential"] == 2.5e6
    assert changed.unit_value_krw_per_m2["industrial"] == default.unit_value_krw_per_m2["industrial"]
    assert changed.storey_height_m == 3.5
    assert changed.unit_value_by_code()[RES] == 2.5e6
    own = tmp_path / "values.yaml"
    own.write_text("storey_height_m: 2.8\nunit_value_krw_per_m2: {residential: 1, commercial: 2, industrial: 3, "
                   "public: 4}\nfirst_floor_height_m: {residential: 0.5, commercial: 0, industrial: 0.2, "
                   "public: 1}\n", encoding="utf-8")
    assert load_values(own).unit_value_by_code()[1:].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert load_values(own).first_floor_height_by_code()[1:].tolist() == [0.5, 0.0, 0.2, 1.0]


def test_default_first_floor_heights_are_hazus_slab_on_grade():
    """1 ft = 0.3048 m for every use (HAZUS slab-on-grade); overridable use by use, 0 allowed."""
    default = load_values()
    assert default.first_floor_height_m == {u: 0.3048 for u in BUILDING_USE}
    raised = load_values(overrides={"first_floor_height_m": {"residential": 1.2, "industrial": 0}})
    assert raised.first_floor_height_by_code()[[RES, COM, IND, PUB]].tolist() == [1.2, 0.3048, 0.0, 0.3048]


def test_values_file_without_first_floor_heights_names_the_missing_uses(tmp_path):
    own = tmp_path / "values.yaml"
    own.write_text("storey_height_m: 3\nunit_value_krw_per_m2: {residential: 1, commercial: 2, industrial: 3, "
                   "public: 4}\nfirst_floor_height_m: {residential: 0.5}\n", encoding="utf-8")
    with pytest.raises(InputError, match="first_floor_height_m: no entry for commercial, industrial, public") as err:
        load_values(own)
    assert str(own) in str(err.value)


def test_depth_above_floor_is_wall_depth_minus_floor_height_clipped_at_zero():
    wall = np.array([0.0, 0.2, 0.3048, 0.5, 2.0])
    assert depth_above_floor(wall, 0.3048).tolist() == [0.0, 0.0, 0.0, 0.5 - 0.3048, 2.0 - 0.3048]
    assert depth_above_floor(wall, np.array([0, 0, 0, 1, 1.5])).tolist() == [0.0, 0.2, 0.3048, 0.0, 0.5]


def test_damage_at_depth_above_floor_by_hand():
    """Wall depth 1.3048 m, floor 0.3048 m: 1 m above the floor, the residential JRC point 0.494;
    wall depth 0.8 m, floor 0.3 m: 0.5 m above, the commercial point 0.377; below the floor: 0."""
    curves = load_curves()
    got = damage_fraction(depth_above_floor(np.array([1.3048, 0.8, 0.25]), np.array([0.3048, 0.3, 0.3048])),
                          np.array([RES, COM, IND]), curves)
    assert got == pytest.approx([0.494, 0.377, 0.0], rel=1e-12, abs=0)


@pytest.mark.parametrize("overrides, match", [
    ({"unit_value_krw_per_m2": {"school": 1.0}}, "unit_value_krw_per_m2: values by use name"),
    ({"unit_value_krw_per_m2": {"residential": -1.0}}, r"overrides: unit_value_krw_per_m2.residential: must be"),
    ({"unit_value_krw_per_m2": {"residential": 0}}, r"unit_value_krw_per_m2.residential: must be a positive"),
    ({"first_floor_height_m": {"public": -0.1}}, r"overrides: first_floor_height_m.public: must be a non-negative"),
    ({"first_floor_height_m": {"garage": 0.1}}, "first_floor_height_m: values by use name"),
    ({"first_floor_height_m": {"public": float("nan")}}, r"first_floor_height_m.public: must be a non-negative"),
    ({"storey_height_m": 0}, "storey_height_m: must be a positive number"),
    ({"storey": 3.0}, "unknown keys"),
])
def test_bad_value_overrides_raise(overrides, match):
    with pytest.raises(InputError, match=match):
        load_values(overrides=overrides)


def test_storeys_round_and_floor_at_one():
    assert storeys(np.array([0.0, 1.4, 4.4, 4.5, 10.0, 31.0]), 3.0).tolist() == [1, 1, 1, 2, 3, 10]


def test_risk_index_and_class_boundaries():
    index = risk_index(np.array([0.0, 0.05, 0.1, 0.2, 0.0]), np.array([0.0, 0.0, 0.0, 0.3, 0.99]))
    assert index.tolist() == [0.0, 0.05, 0.1, 0.3, 0.99]
    assert risk_class(index).tolist() == [0, 1, 2, 3, 3]
    assert risk_class(np.array([0.0999, 0.2999])).tolist() == [1, 2]


def test_class_none_is_index_zero_and_the_legend_lists_it():
    assert risk_class(np.array([0.0, 1e-12])).tolist() == [0, 1]
    legend = risk_class_legend()
    assert tuple(legend) == RISK_CLASSES and RISK_CLASSES[0] == "none"
    assert legend["none"].startswith("index = 0") and legend["medium"] == "0.1 <= index < 0.3"
