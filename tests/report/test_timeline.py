"""The timeline figure: what it draws for the seed case, edge cases, and the three file formats."""

from __future__ import annotations

import io
import struct
from xml.etree import ElementTree
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from matplotlib import dates as mdates
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure

from mastcds import evaluate
from mastcds.case import Case, load_case
from mastcds.report import palette
from mastcds.report.timeline import (
    A4_TEXT_WIDTH_IN,
    LOWEST_SHOWN_NG_ML,
    PNG_DPI,
    TRYPTASE_LIMIT_NG_ML,
    save_figure_bytes,
    save_timeline,
    timeline_figure,
)
from tests.schema_strategy import valid_cases


def texts(figure: Figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(lambda artist: hasattr(artist, "get_text"))]


def panels(figure: Figure):
    episodes, tryptase, treatments = figure.axes
    return episodes, tryptase, treatments


def episode_markers(ax) -> list[tuple[float, float]]:
    """Where the filled episode markers are (ICU rings are hollow), one (x, y) per episode."""
    filled = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_facecolors()) and c.get_facecolors()[0][3] > 0]
    return [tuple(xy) for c in filled for xy in c.get_offsets()]


def icu_rings(ax) -> list[tuple[float, float]]:
    hollow = [c for c in ax.collections if isinstance(c, PathCollection) and (len(c.get_facecolors()) == 0 or c.get_facecolors()[0][3] == 0)]
    return [tuple(xy) for c in hollow for xy in c.get_offsets()]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_seed_figure_shows_episodes_tryptase_treatments_and_dates(seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    figure = timeline_figure(seed_case, seed_evaluation)
    ep, tr, rx = panels(figure)
    markers = episode_markers(ep)
    assert len(markers) == 4
    heights = sorted(round(float(y)) for _, y in markers)
    assert heights == [0, 3, 3, 3]  # e4 undetermined, e1-e3 severe (from the evaluation)
    assert len(icu_rings(ep)) == 3  # e1-e3 were ICU stays
    assert tr.get_yscale() == "log"
    assert any(line.get_ydata()[0] == TRYPTASE_LIMIT_NG_ML for line in tr.get_lines() if line.get_linestyle() == "--")
    thresholds = [c for c in tr.collections if isinstance(c, LineCollection) and c.get_colors()[0][:3] == pytest.approx(
        tuple(int(palette.RISE_THRESHOLD[i:i + 2], 16) / 255 for i in (1, 3, 5)))]
    segments = [seg for c in thresholds for seg in c.get_segments()]
    assert len(segments) == 4
    assert all(seg[0][1] == pytest.approx(63.08) for seg in segments)
    baseline = [line for line in tr.get_lines() if line.get_marker() == "o"]
    assert sorted(baseline[0].get_ydata()) == [50.9, 74.1]
    assert len(rx.patches) == 7  # one bar per treatment
    labels = [t.get_text() for t in rx.get_yticklabels()]
    assert labels[-1] == "glucocorticoid" and labels[0] == "h1 antihistamine daily"  # earliest start on top
    assert "omalizumab 300 mg q4w" in [t.get_text() for t in rx.get_yticklabels()]
    words = texts(figure)
    assert "evaluation 2011-09" in words
    assert "as of 2012-07-01" in words
    assert any("20 ng/mL" in w for w in words) and any("ICU stay" in w for w in words)
    assert figure.get_size_inches()[0] == pytest.approx(A4_TEXT_WIDTH_IN)


def test_ongoing_treatments_run_to_the_as_of_date(seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    figure = timeline_figure(seed_case, seed_evaluation, as_of="2012-12-31")
    bars = panels(figure)[2].patches
    right_edges = {round(bar.get_x() + bar.get_width()) for bar in bars}
    assert round(mdates.date2num(date(2012, 12, 31))) in right_edges
    assert "as of 2012-12-31" in texts(figure)


def test_partial_dates_get_a_bar_over_their_period_and_exact_dates_do_not(seed_evaluation: dict[str, Any]) -> None:
    case = load_case({"patient": {}, "episodes": [{"id": "x", "date": "2020-03-04"}, {"id": "y", "date": "2021"}]})
    figure = timeline_figure(case, {"episodes": [{"episode_id": "x", "severity_brown": "mild"}, {"episode_id": "y", "severity_brown": "moderate"}]})
    ep = panels(figure)[0]
    bars = [c for c in ep.collections if isinstance(c, LineCollection)]
    assert len(bars) == 1
    (segment,) = bars[0].get_segments()
    assert mdates.num2date(segment[0][0]).date() == date(2021, 1, 1)
    assert mdates.num2date(segment[1][0]).date() == date(2021, 12, 31)
    heights = sorted(round(float(y)) for _, y in episode_markers(ep))
    assert heights == [1, 2]


def test_episodes_without_id_are_matched_by_position_and_undated_ones_named() -> None:
    case = load_case({"patient": {}, "episodes": [{"date": "2020-01-01"}, {}, {"date": "2020-06-01"}]})
    evaluation = {"episodes": [{"episode_id": "1", "severity_brown": "severe"}, {"episode_id": "2", "severity_brown": None},
                               {"episode_id": "3", "severity_brown": "mild"}]}
    figure = timeline_figure(case, evaluation)
    heights = sorted(round(float(y)) for _, y in episode_markers(panels(figure)[0]))
    assert heights == [1, 3]
    assert "Episodes without a date, not shown: episode 2" in texts(figure)


def test_empty_case_draws_placeholders() -> None:
    figure = timeline_figure(load_case({"patient": {}}), {})
    words = texts(figure)
    for expected in ("no dated episode", "no tryptase recorded", "no treatment recorded"):
        assert expected in words
    save_figure_bytes(figure, "png")


def test_zero_or_tiny_tryptase_sits_on_the_axis_floor_with_its_value() -> None:
    case = load_case({"patient": {}, "lab_results": [{"test": "tryptase", "value": 0, "unit": "ng/mL", "date": "2020-01-01", "context": "baseline"}]})
    figure = timeline_figure(case, {})
    tr = panels(figure)[1]
    assert tr.get_ylim()[0] >= LOWEST_SHOWN_NG_ML
    assert min(tr.get_lines()[0].get_ydata()) == tr.get_ylim()[0]
    assert "0" in [t.get_text() for t in tr.texts]


def test_undated_baseline_is_a_dotted_line_and_units_are_converted() -> None:
    case = load_case({"patient": {}, "labs": {"baseline_tryptase_ng_ml": 30},
                      "lab_results": [{"test": "tryptase", "value": 90, "unit": "ug/L", "date": "2020-01", "context": "acute"}]})
    tr = panels(timeline_figure(case, {}))[1]
    assert any(line.get_linestyle() == ":" and line.get_ydata()[0] == 30 for line in tr.get_lines())
    assert any(line.get_marker() == "^" and list(line.get_ydata()) == [90] for line in tr.get_lines())


def test_acute_tryptase_of_an_episode_is_drawn_once() -> None:
    case = load_case({"patient": {}, "episodes": [{"id": "a", "date": "2020-01-02", "acute_tryptase_ng_ml": 40},
                                                  {"id": "b", "date": "2020-05-02", "acute_tryptase_ng_ml": 44}],
                      "lab_results": [{"test": "tryptase", "value": 40, "unit": "ng/mL", "date": "2020-01-02", "context": "acute", "episode_id": "a"}]})
    tr = panels(timeline_figure(case, {}))[1]
    acute = [line for line in tr.get_lines() if line.get_marker() == "^"]
    assert sorted(acute[0].get_ydata()) == [40, 44]


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_save_timeline_in_each_format(tmp_path: Path, seed_case: Case, seed_evaluation: dict[str, Any], suffix: str, magic: bytes) -> None:
    target = save_timeline(seed_case, seed_evaluation, tmp_path / f"timeline{suffix.upper()}")
    data = target.read_bytes()
    assert data.startswith(magic) and len(data) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left
    if suffix == ".png":
        width, _ = png_size(data)
        assert width == round(A4_TEXT_WIDTH_IN * PNG_DPI)
    if suffix == ".svg":
        assert b"omalizumab 300 mg q4w" in data  # text kept as text: searchable, sharp in the PDF report


def test_unknown_suffix_is_refused_and_nothing_written(tmp_path: Path, seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"\.png, \.svg or \.pdf"):
        save_timeline(seed_case, seed_evaluation, tmp_path / "timeline.jpg")
    assert list(tmp_path.iterdir()) == []


def test_control_characters_in_free_text_keep_the_svg_well_formed() -> None:
    case = load_case({"patient": {}, "id": "a\x1bb", "episodes": [{"id": "e\x01", "date": "2020"}],
                      "treatments": [{"drug": "drug\x0b\U0006d35a", "start_date": "2020"}]})
    svg = save_figure_bytes(timeline_figure(case, {}), "svg")
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    assert b"drug??" in svg and b"Case a?b" in svg


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_cases())
def test_any_valid_case_draws(document: dict[str, Any]) -> None:
    case = load_case(document)
    figure = timeline_figure(case, evaluate(document))
    assert len(figure.axes) == 3
    ElementTree.fromstring(save_figure_bytes(figure, "svg"))  # well-formed whatever the free text


def _label_boxes(figure: Figure) -> list[Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    return [a.get_window_extent(renderer) for a in figure.findobj(lambda artist: artist.get_gid() == "value-label")]


def test_value_labels_are_never_drawn_over_each_other() -> None:
    import itertools

    crowded = [(51.2, "2011-09-20"), (52.0, "2011-09-25"), (49.9, "2011-10-01"), (50.4, "2011-10-03")]
    document = {
        "patient": {}, "evaluation_date": "2011-10",
        "episodes": [{"id": f"e{i}", "date": f"2011-10-0{i}", "loss_of_consciousness": True} for i in range(1, 5)],
        "lab_results": [{"test": "tryptase", "value": v, "unit": "ng/mL", "date": d, "context": "baseline"} for v, d in crowded],
    }
    boxes = _label_boxes(timeline_figure(load_case(document), evaluate(document)))
    assert len(boxes) == 8
    assert not [pair for pair in itertools.combinations(boxes, 2) if pair[0].overlaps(pair[1])]


def test_an_ongoing_treatment_started_on_the_as_of_date_draws_a_visible_bar() -> None:
    from matplotlib.patches import Rectangle

    document = {"patient": {}, "evaluation_date": "2011-09", "treatments": [{"drug": "omalizumab", "start_date": "2011-09"}],
                "episodes": [{"date": "2010-01"}]}
    figure = timeline_figure(load_case(document), evaluate(document), as_of="2011-09")
    bars = [p for p in panels(figure)[2].patches if isinstance(p, Rectangle)]
    assert bars and all(bar.get_width() > 0 for bar in bars)
