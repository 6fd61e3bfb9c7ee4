"""Tests of the scenario schema (twin.scenario.schema, twin.core.validation, twin.core.yamlio, twin.scenario.units).

A valid scenario loads into a frozen object with its documented defaults; durations are turned
into seconds; every schema error is reported at once with its YAML path and line; YAML is read
with the safe loader.
"""

from __future__ import annotations

import textwrap

import pydantic
import pytest

from twin.core.errors import InputError
from twin.hazards.registry import load_scenario
from twin.scenario.units import parse_duration


def _write(tmp_path, text: str, name: str = "scenario.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _line_of(path, fragment: str) -> int:
    """1-based line of the only line of ``path`` containing ``fragment``."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line]
    assert len(hits) == 1, (fragment, hits)
    return hits[0]


def _error(path) -> str:
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return str(info.value)


# ---------------------------------------------------------------- valid scenarios and defaults

def test_minimal_scenario_needs_only_twin_hazard_duration(tmp_path):
    """The module documents ``twin``, ``hazard`` and ``duration`` as the only required keys."""
    path = _write(tmp_path, """
        twin: twin.yaml
        hazard: flood
        duration: 3 h
    """)
    sc = load_scenario(path).scenario
    assert sc.twin == "twin.yaml"
    assert sc.hazard == "flood"
    assert sc.duration == 3 * 3600.0
    assert sc.name  # a default name exists (the run folder is runs/<name>)


def test_named_minimal_flood_scenario_gets_documented_defaults(tmp_path):
    path = _write(tmp_path, """
        name: demo
        twin: twin.yaml
        hazard: flood
        duration: 3 h
    """)
    sf = load_scenario(path)
    sc = sf.scenario
    assert sc.duration == 10800.0
    assert sc.seed == 0
    assert sc.description == ""
    assert sc.flood is not None  # a flood scenario always gets its flood block
    assert sc.flood.rainfall is None and sc.flood.inflows == []
    assert (sc.flood.boundaries.north, sc.flood.boundaries.south,
            sc.flood.boundaries.east, sc.flood.boundaries.west) == ("free",) * 4
    assert sc.flood.losses.infiltration_mm_h == 0.0 and sc.flood.losses.drainage_mm_h == 0.0
    assert sc.flood.initial_depth_m == 0.0
    assert 0.5 <= sc.flood.numerics.theta <= 1.0 and 0.0 < sc.flood.numerics.alpha <= 1.0
    assert sc.output.every == 600.0 and sc.output.gauge_every == 60.0
    assert sc.output.geotiff is True and sc.output.gauges == []
    assert sf.output_dir() == tmp_path / "runs" / "demo"
    assert sf.resolve("twin.yaml") == tmp_path / "twin.yaml"


def test_fire_scenario_has_no_flood_block(tmp_path):
    path = _write(tmp_path, """
        name: burn
        twin: twin.yaml
        hazard: fire
        duration: 90 min
        fire:
          ignitions: [{at: [1, 2]}]
    """)
    assert load_scenario(path).scenario.flood is None


def test_scenario_is_frozen(tmp_path):
    path = _write(tmp_path, "name: demo\ntwin: twin.yaml\nhazard: flood\nduration: 60\n")
    sc = load_scenario(path).scenario
    with pytest.raises(pydantic.ValidationError):
        sc.duration = 1.0


@pytest.mark.parametrize("text, seconds", [("3 h", 10800.0), ("90 min", 5400.0), ("5400 s", 5400.0),
                                           ("5400", 5400.0), ("1.5 h", 5400.0), ("2 d", 172800.0)])
def test_duration_strings_parse_to_seconds(tmp_path, text, seconds):
    path = _write(tmp_path, f"name: demo\ntwin: twin.yaml\nhazard: flood\nduration: {text}\n")
    assert load_scenario(path).scenario.duration == seconds
    assert parse_duration(text) == seconds


def test_duration_number_is_seconds():
    assert parse_duration(5400) == 5400.0
    assert parse_duration(90.5) == 90.5


@pytest.mark.parametrize("bad", ["3 hours later", "h", "3 fortnights", "", True, None, [3]])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValueError, match="duration like"):
        parse_duration(bad)


def test_rainfall_and_durations_in_series_are_converted(tmp_path):
    path = _write(tmp_path, """
        name: demo
        twin: twin.yaml
        hazard: flood
        duration: 2 h
        flood:
          rainfall:
            times: [0, 30 min, 1 h]
            intensity_mm_h: [0, 36, 0]
    """)
    rain = load_scenario(path).scenario.flood.rainfall
    assert rain.times == [0.0, 1800.0, 3600.0]
    assert rain.rates_m_s() == pytest.approx([0.0, 1e-5, 0.0], rel=1e-12, abs=0.0)  # 36 mm/h = 1e-5 m/s


# ---------------------------------------------------------------- schema errors

def test_all_schema_errors_reported_at_once_with_path_and_line(tmp_path):
    path = _write(tmp_path, """
        name: demo
        twin: twin.yaml
        hazard: flood
        duration: 3 hours later
        seeed: 4
        flood:
          inflows:
            - name: river
              at: [1.0, 2.0]
              times: [0, 10 min, 20 min, 1 h]
              discharge_m3_s: [1.0, 2.0, 3.0]
          numerics:
            theta: 2.0
        output:
          every: -5 s
    """)
    msg = _error(path)
    assert msg.startswith(f"{path}: 5 errors:")
    assert (f"flood.inflows[0].discharge_m3_s: 3 values but times has 4 "
            f"(line {_line_of(path, 'discharge_m3_s')})") in msg
    assert "duration: expected a duration" in msg
    assert f"(line {_line_of(path, 'duration:')})" in msg
    assert f"seeed: unknown key (typo?) (line {_line_of(path, 'seeed')})" in msg
    assert "flood.numerics.theta:" in msg and f"(line {_line_of(path, 'theta')})" in msg
    assert "output.every:" in msg and f"(line {_line_of(path, 'every')})" in msg


def test_errors_inside_unions_point_at_the_yaml_path(tmp_path):
    path = _write(tmp_path, """
        name: demo
        twin: twin.yaml
        hazard: flood
        duration: 5400
        flood:
          rainfall:
            times: [0, 30 min, 1 h]
            intensity_mm_h: [10, 20]
          boundaries:
            north: opne
            south: 12.5
    """)
    msg = _error(path)
    assert (f"flood.rainfall.intensity_mm_h: 2 values but times has 3 "
            f"(line {_line_of(path, 'intensity_mm_h')})") in msg
    assert "flood.boundaries.north:" in msg and "'opne'" in msg
    assert f"(line {_line_of(path, 'north')})" in msg
    assert "south" not in msg  # a fixed level (m) is a valid boundary


def test_unknown_nested_key_is_an_error_with_its_line(tmp_path):
    path = _write(tmp_path, """
        name: demo
        twin: twin.yaml
        hazard: flood
        duration: 1 h
        flood:
          numerics:
            thetta: 0.7
    """)
    msg = _error(path)
    assert f"flood.numerics.thetta: unknown key (typo?) (line {_line_of(path, 'thetta')})" in msg


def test_missing_required_key_is_an_input_error(tmp_path):
    path = _write(tmp_path, "name: demo\ntwin: twin.yaml\nduration: 1 h\n")
    msg = _error(path)
    assert "hazard: required key is missing" in msg


def test_inflow_needs_exactly_one_of_point_or_line(tmp_path):
    path = _write(tmp_path, """
        name: demo
        twin: twin.yaml
        hazard: flood
        duration: 1 h
        flood:
          inflows:
            - name: both
              at: [1.0, 2.0]
              line: [[0.0, 0.0], [1.0, 1.0]]
              times: [0]
              discharge_m3_s: [1.0]
    """)
    msg = _error(path)
    assert "flood.inflows[0]: give exactly one of" in msg
    assert f"(line {_line_of(path, '- name: both')})" in msg


# ---------------------------------------------------------------- YAML level

@pytest.mark.parametrize("text, found", [("- a\n- b\n", "list"), ("just a string\n", "str"), ("", "NoneType")])
def test_non_mapping_yaml_is_refused(tmp_path, text, found):
    path = _write(tmp_path, text)
    msg = _error(path)
    assert "scenario.yaml" in msg
    assert "a scenario is a YAML mapping" in msg
    assert f"found {found}" in msg


def test_invalid_yaml_syntax_reports_the_line(tmp_path):
    path = _write(tmp_path, """
        name: demo
        twin: twin.yaml
        hazard: flood
          duration: 3 h
        seed: 1
    """)
    msg = _error(path)
    assert "invalid YAML" in msg
    assert f"(line {_line_of(path, 'duration')})" in msg


def test_python_object_tag_is_refused_and_not_executed(tmp_path):
    marker = tmp_path / "executed"
    path = _write(tmp_path, f"""
        name: demo
        twin: twin.yaml
        hazard: flood
        duration: !!python/object/apply:os.system ["touch {marker}"]
    """)
    msg = _error(path)
    assert "invalid YAML" in msg and "python/object" in msg
    assert f"(line {_line_of(path, 'python/object')})" in msg
    assert not marker.exists()


def test_missing_scenario_file_is_named(tmp_path):
    msg = _error(tmp_path / "nowhere.yaml")
    assert "nowhere.yaml" in msg and "not found" in msg
