"""The case on one page-wide figure: episodes by severity, tryptase, treatments, diagnosis dates.

Built for a clinician who has seconds: three stacked panels on one time axis,
severity read from height *and* colour *and* shape, tryptase on a log scale
against the 20 ng/mL line and each episode's 20% + 2 threshold. Partial dates
sit mid-period (as in :mod:`mastcds.rules.treatment.response`) with a bar
spanning every day they may mean, so the figure never looks surer than the
record. Severity and thresholds come from the evaluation (the contract), not
recomputed here.
"""

from __future__ import annotations

import io
import os
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display on servers and CI

from matplotlib import dates as mdates  # noqa: E402
from matplotlib import ticker  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from mastcds.atomic_file import write_atomically  # noqa: E402
from mastcds.case import Case  # noqa: E402
from mastcds.report import palette  # noqa: E402
from mastcds.report.episodes import per_episode  # noqa: E402
from mastcds.rules.treatment.response import Period, ResponseSummary, episode_label, period, treatment_response  # noqa: E402

A4_TEXT_WIDTH_IN = 7.1
"""A4 (210 mm) less 15 mm margins each side: the figure prints at 100% without scaling."""
FONT_PT = 8.0
TRYPTASE_LIMIT_NG_ML = 20.0
"""Serum tryptase > 20 ng/mL, the SM minor criterion (criteria-reference.md, WHO 2022 / ICC 2022)."""
LOWEST_SHOWN_NG_ML = 0.1
"""Floor of the log axis: a recorded 0 (or anything lower) is drawn on it, labelled with its value."""
SEVERITY_LEVEL = {None: 0, "mild": 1, "moderate": 2, "severe": 3}
SEVERITY_NAME = {None: "grade undetermined", "mild": "mild", "moderate": "moderate", "severe": "severe"}
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
PNG_DPI = 200
VALUE_LABEL = "value-label"
"""The gid of every label drawn beside a point: they are moved apart so that none covers another."""
LABEL_STEP_PT = 8.0
"""How far a label moves up, in points, each time it would cover one placed before it."""
OPEN_BAR_MIN_FRACTION = 0.012
"""An ongoing treatment's bar is at least this share of the time axis wide: one started on the as-of date stays visible."""
MAX_LABELLED_POINTS = 60
"""Beyond this many episodes (or tryptase values) in a panel their labels overlap into an unreadable
band and cost most of the drawing time; the points are drawn unlabelled and the report's tables list them."""


def printable(text: str) -> str:
    """Free text (ids, drug names) drawn as plain text in every output.

    Control and unassigned characters become '?' (SVG is XML, where most
    control characters are not allowed at all), and every '$' is escaped:
    matplotlib reads text between two '$' as mathtext, where an unknown
    command (``$\\undefinedcommand$``) breaks the whole drawing.
    """
    return "".join(ch if ch.isprintable() else "?" for ch in text).replace("$", r"\$")


@lru_cache(maxsize=1 << 17)  # every day of the years a case may hold (1900-2100) fits
def _d(day: date) -> float:
    # remembered: matplotlib's date2num costs about 0.1 ms, and a case at the list limits asks for 50,000 days
    return float(mdates.date2num(day))


def _span(when: Period) -> tuple[float, float]:
    """(left, right) error-bar lengths from the placed day to the period's ends."""
    return _d(when.placed) - _d(when.first), _d(when.last) - _d(when.placed)


@dataclass(frozen=True)
class _EpisodePoint:
    label: str
    when: Period
    severity: str | None
    icu: bool
    threshold: float | None


def _episode_points(case: Case, evaluation: dict[str, Any]) -> tuple[list[_EpisodePoint], list[str]]:
    grades = per_episode(case, evaluation.get("episodes") or [])
    rises = per_episode(case, (evaluation.get("tryptase") or {}).get("episodes") or [])
    points, undated = [], []
    for i, episode in enumerate(case.episodes):
        label = episode_label(i, episode.id)
        if episode.date is None:
            undated.append(label)
            continue
        points.append(
            _EpisodePoint(
                label,
                period(episode.date),
                grades[i].get("severity_brown"),
                bool(episode.icu_admission),
                rises[i].get("threshold_ng_ml"),
            )
        )
    return points, undated


def _draw_episodes(ax: Axes, points: list[_EpisodePoint]) -> list[Any]:
    handles: list[Any] = []
    seen: Counter[tuple[date, str | None]] = Counter()
    totals = Counter((p.when.placed, p.severity) for p in points)
    # one collection per severity, not one per episode: a drawing call per point made a
    # case with a thousand episodes take most of a minute to draw
    placed: dict[str | None, list[tuple[float, float]]] = {}
    inexact: list[tuple[float, float, float, float]] = []
    icu: list[tuple[float, float]] = []
    for point in points:
        key = (point.when.placed, point.severity)
        nth, total = seen[key], totals[key]
        seen[key] += 1
        y = SEVERITY_LEVEL[point.severity] + 0.36 * (nth - (total - 1) / 2)  # same day, same grade: stack
        x = _d(point.when.placed)
        if not point.when.exact:
            inexact.append((x, y, *_span(point.when)))
        placed.setdefault(point.severity, []).append((x, y))
        if point.icu:
            icu.append((x, y))
        if len(points) <= MAX_LABELLED_POINTS:
            ax.annotate(printable(point.label), (x, y), xytext=(8, 0), textcoords="offset points", va="center",
                        fontsize=FONT_PT - 1.5, gid=VALUE_LABEL)
    if inexact:
        xs, ys, left, right = zip(*inexact)
        ax.errorbar(xs, ys, xerr=[left, right], fmt="none", ecolor=palette.GREY, elinewidth=0.8, capsize=2, zorder=2)
    for severity, xy in placed.items():
        xs, ys = zip(*xy)
        ax.scatter(
            xs, ys, s=46, marker=palette.SEVERITY_MARKER[severity], color=palette.SEVERITY[severity],
            edgecolors=palette.BLACK, linewidths=0.6, zorder=3,
        )
    if icu:
        xs, ys = zip(*icu)
        ax.scatter(xs, ys, s=110, marker="o", facecolors="none", edgecolors=palette.BLACK, linewidths=1.3, zorder=4)
    ax.set_yticks(range(4), [SEVERITY_NAME[s] for s in SEVERITY_LEVEL])
    ax.set_ylim(-0.7, 3.7)
    ax.set_ylabel("Episodes\n(Brown grade)")
    ax.grid(axis="y", color="#dddddd", linewidth=0.5)
    for severity in ("severe", "moderate", "mild", None):
        if any(p.severity == severity for p in points):
            handles.append(
                Line2D([], [], linestyle="none", marker=palette.SEVERITY_MARKER[severity], markersize=6,
                       markerfacecolor=palette.SEVERITY[severity], markeredgecolor=palette.BLACK,
                       label=f"episode, {SEVERITY_NAME[severity]}")
            )
    if any(p.icu for p in points):
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=10, markerfacecolor="none",
                              markeredgecolor=palette.BLACK, markeredgewidth=1.3, label="ICU stay"))
    if any(not p.when.exact for p in points):
        handles.append(Line2D([], [], color=palette.GREY, linewidth=0.8, label="date known to month/year only"))
    if not points:
        ax.text(0.5, 0.5, "no dated episode", transform=ax.transAxes, ha="center", va="center", color=palette.GREY)
    return handles


@dataclass(frozen=True)
class _TryptasePoint:
    when: Period
    value: float
    context: str  # baseline / acute / unknown


def _tryptase_points(case: Case) -> list[_TryptasePoint]:
    points = [
        _TryptasePoint(period(r.date), r.canonical_value, r.context or "unknown")
        for r in case.lab_results
        if r.test == "tryptase"
    ]
    acute_labs = {r.episode_id for r in case.lab_results if r.test == "tryptase" and r.episode_id}
    for episode in case.episodes:
        if episode.acute_tryptase_ng_ml is not None and episode.date and (episode.id is None or episode.id not in acute_labs):
            points.append(_TryptasePoint(period(episode.date), episode.acute_tryptase_ng_ml, "acute"))
    return points


def _log_limits(values: list[float]) -> tuple[float, float]:
    """Log-axis limits around every positive value (and the 20 ng/mL line), at least a decade high."""
    positive = [v for v in values if v > 0] + [TRYPTASE_LIMIT_NG_ML]
    low = max(min(positive) / 1.8, LOWEST_SHOWN_NG_ML)
    return low, max(max(positive) * 1.8, low * 10)


def _draw_tryptase(ax: Axes, case: Case, episodes: list[_EpisodePoint], half_width_days: float) -> list[Any]:
    handles: list[Any] = []
    points = _tryptase_points(case)
    undated_baseline = case.labs.baseline_tryptase_ng_ml
    if any(p.context == "baseline" for p in points):
        undated_baseline = None  # dated baselines are drawn as points
    thresholds = [(p, p.threshold) for p in episodes if p.threshold is not None]
    low, high = _log_limits(
        [p.value for p in points] + [t for _, t in thresholds] + ([undated_baseline] if undated_baseline is not None else [])
    )
    styles = {
        "baseline": (palette.BASELINE_TRYPTASE, "o", "baseline tryptase"),
        "acute": (palette.ACUTE_TRYPTASE, "^", "acute (episode) tryptase"),
        "unknown": (palette.GREY, "o", "tryptase, timing not recorded"),
    }
    for context, (colour, marker, name) in styles.items():
        chosen = sorted((p for p in points if p.context == context), key=lambda p: p.when.placed)
        if not chosen:
            continue
        xs = [_d(p.when.placed) for p in chosen]
        ys = [max(p.value, low) for p in chosen]  # below the axis (e.g. 0): drawn on its floor, labelled with the value
        left = [_span(p.when)[0] for p in chosen]
        right = [_span(p.when)[1] for p in chosen]
        ax.errorbar(xs, ys, xerr=[left, right], fmt="none", ecolor=colour, elinewidth=0.8, capsize=2, alpha=0.7, zorder=2)
        ax.plot(xs, ys, linestyle="-" if context == "baseline" else "none", linewidth=1.0, marker=marker, markersize=5,
                color=colour, markeredgecolor=palette.BLACK, markeredgewidth=0.5, zorder=3)
        for x, y, p in zip(xs, ys, chosen) if len(points) <= MAX_LABELLED_POINTS else ():
            ax.annotate(f"{p.value:g}", (x, y), xytext=(0, 5), textcoords="offset points", ha="center",
                        fontsize=FONT_PT - 1.5, gid=VALUE_LABEL)
        handles.append(Line2D([], [], color=colour, marker=marker, markeredgecolor=palette.BLACK, markeredgewidth=0.5,
                              linestyle="-" if context == "baseline" else "none", label=name))
    if undated_baseline is not None:
        ax.axhline(max(undated_baseline, low), color=palette.BASELINE_TRYPTASE, linestyle=":", linewidth=1.0)
        handles.append(
            Line2D([], [], color=palette.BASELINE_TRYPTASE, linestyle=":", label=f"baseline tryptase {undated_baseline:g}, date not recorded")
        )
    if thresholds:
        xs = [_d(point.when.placed) for point, _ in thresholds]
        ax.hlines([max(threshold, low) for _, threshold in thresholds], [x - half_width_days for x in xs],
                  [x + half_width_days for x in xs], color=palette.RISE_THRESHOLD, linewidth=1.6, zorder=2)
        handles.append(Line2D([], [], color=palette.RISE_THRESHOLD, linewidth=1.6, label="20% + 2 threshold per episode"))
    ax.axhline(TRYPTASE_LIMIT_NG_ML, color=palette.TRYPTASE_LIMIT, linestyle="--", linewidth=0.9, zorder=2.5)
    handles.append(Line2D([], [], color=palette.TRYPTASE_LIMIT, linestyle="--", linewidth=0.9, label="20 ng/mL (SM minor criterion)"))
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_ylabel("Serum tryptase\n(ng/mL, log scale)")
    ax.grid(axis="y", which="major", color="#dddddd", linewidth=0.5)
    if not points and undated_baseline is None:
        ax.text(0.5, 0.5, "no tryptase recorded", transform=ax.transAxes, ha="center", va="center", color=palette.GREY)
    return handles


def _draw_treatments(ax: Axes, case: Case, response: ResponseSummary, as_of: date, min_open_width: float) -> list[Any]:
    handles: list[Any] = []
    rows = sorted(zip(case.treatments, response.treatments), key=lambda pair: period(pair[0].start_date).placed)
    bars: list[tuple[float, float, float, str]] = []
    inexact: list[tuple[float, float, float, float]] = []
    ongoing: dict[str, list[tuple[float, float]]] = {}
    for row, (treatment, summary) in enumerate(rows):  # drawn in one call per kind of mark, as the episodes
        y = len(rows) - 1 - row
        start = period(treatment.start_date)
        end = period(treatment.end_date) if treatment.end_date else None
        right = end.placed if end else max(as_of, start.placed)
        width = _d(right) - _d(start.placed)
        if end is None:  # ongoing: never a bar of no width, even when it started on the as-of date
            width = max(width, min_open_width)
        colour = palette.RESCUE_TREATMENT if summary.on_demand else palette.TREATMENT
        bars.append((y, width, _d(start.placed), colour))
        inexact += [(_d(when.placed), y, *_span(when)) for when in (start, end) if when is not None and not when.exact]
        if end is None:
            ongoing.setdefault(colour, []).append((_d(start.placed) + width, y))
    if bars:
        ys, widths, lefts, colours = zip(*bars)
        ax.barh(ys, widths, left=lefts, height=0.55, color=colours, edgecolor=palette.BLACK, linewidth=0.4, zorder=2)
    if inexact:
        xs, ys, left, right = zip(*inexact)
        ax.errorbar(xs, ys, xerr=[left, right], fmt="none", ecolor=palette.BLACK, elinewidth=0.7, capsize=2, zorder=3)
    for colour, xy in ongoing.items():
        xs, ys = zip(*xy)
        ax.plot(xs, ys, linestyle="none", marker=">", color=colour, markeredgecolor=palette.BLACK, markersize=5, zorder=3)
    ax.set_yticks(range(len(rows)), [printable(summary.label) for _, summary in reversed(rows)])
    ax.set_ylim(-0.7, max(len(rows), 1) - 0.3)
    ax.set_ylabel("Treatments")
    if rows:
        handles.append(Line2D([], [], color=palette.TREATMENT, linewidth=6, label="treatment (▸ ongoing)"))
        if any(s.on_demand for s in response.treatments):
            handles.append(Line2D([], [], color=palette.RESCUE_TREATMENT, linewidth=6, label="rescue / on demand"))
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no treatment recorded", transform=ax.transAxes, ha="center", va="center", color=palette.GREY)
    return handles


def _landmarks(case: Case, as_of: date | None) -> list[tuple[date, str, str]]:
    marks: list[tuple[date, str, str]] = []
    if case.bone_marrow.biopsy_date:
        marks.append((period(case.bone_marrow.biopsy_date).placed, f"bone-marrow biopsy {case.bone_marrow.biopsy_date}", "--"))
    if case.evaluation_date:
        marks.append((period(case.evaluation_date).placed, f"evaluation {case.evaluation_date}", "--"))
    if as_of is not None:
        marks.append((as_of, f"as of {as_of.isoformat()}", ":"))
    return marks


def _draw_landmarks(axes: Sequence[Axes], landmarks: list[tuple[date, str, str]], span_days: int) -> None:
    """Vertical lines through every panel, labelled above the top one (staggered when close)."""
    previous: date | None = None
    level = 0
    for day, text, style in sorted(landmarks):
        for ax in axes:
            ax.axvline(_d(day), color=palette.LANDMARK if style == "--" else palette.GREY, linestyle=style, linewidth=0.8, zorder=1)
        level = level + 1 if previous is not None and (day - previous).days < span_days / 6 else 0
        previous = day
        axes[0].annotate(text, (_d(day), 1.0), xycoords=("data", "axes fraction"), xytext=(0, 2 + 9 * level),
                         textcoords="offset points", ha="center", va="bottom", fontsize=FONT_PT - 1.5)


def _time_span(case: Case, as_of: date | None, landmarks: list[tuple[date, str, str]]) -> tuple[date, date]:
    periods = [period(e.date) for e in case.episodes if e.date]
    periods += [period(r.date) for r in case.lab_results]
    for t in case.treatments:
        periods.append(period(t.start_date))
        if t.end_date:
            periods.append(period(t.end_date))
    firsts = [p.first for p in periods] + [m[0] for m in landmarks]
    lasts = [p.last for p in periods] + [m[0] for m in landmarks]
    if not firsts:
        today = as_of or date.today()
        return today - timedelta(days=365), today + timedelta(days=30)
    first, last = min(firsts), max(lasts)
    margin = timedelta(days=max(30, (last - first).days // 25))
    return first - margin, last + margin


def timeline_figure(
    case: Case,
    evaluation: dict[str, Any],
    *,
    response: ResponseSummary | None = None,
    as_of: str | date | None = None,
) -> Figure:
    """The timeline of a case: episodes, tryptase and treatments on one shared date axis.

    ``response`` (from :func:`treatment_response`) fixes the as-of date that
    ongoing treatments are drawn to, so figure and rates agree; without it
    one is computed with ``as_of``.
    """
    if response is None:
        response = treatment_response(case, as_of=as_of)
    as_of_day = response.as_of
    points, undated = _episode_points(case, evaluation)
    landmarks = _landmarks(case, as_of_day)
    first, last = _time_span(case, as_of_day, landmarks)
    n_treatments = len(case.treatments)
    panels = [1.7, 1.9, max(0.7, 0.22 * n_treatments)]
    height = sum(panels) + 1.3  # legend, title and axis label
    with matplotlib.rc_context({"font.size": FONT_PT, "axes.titlesize": FONT_PT + 1, "svg.fonttype": "none",
                                "pdf.fonttype": 42, "axes.spines.top": False, "axes.spines.right": False}):
        figure = Figure(figsize=(A4_TEXT_WIDTH_IN, height), layout="constrained")
        grid = figure.add_gridspec(3, 1, height_ratios=panels)
        ax_episodes = figure.add_subplot(grid[0])
        ax_tryptase = figure.add_subplot(grid[1], sharex=ax_episodes)
        ax_treatments = figure.add_subplot(grid[2], sharex=ax_episodes)
        handles = _draw_episodes(ax_episodes, points)
        handles += _draw_tryptase(ax_tryptase, case, points, half_width_days=max(6.0, (last - first).days / 60))
        handles += _draw_treatments(ax_treatments, case, response, as_of_day or last, OPEN_BAR_MIN_FRACTION * (last - first).days)
        _draw_landmarks((ax_episodes, ax_tryptase, ax_treatments), landmarks, (last - first).days)
        locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
        ax_treatments.xaxis.set_major_locator(locator)
        ax_treatments.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax_treatments.set_xlim(_d(first), _d(last))
        for ax in (ax_episodes, ax_tryptase):
            ax.tick_params(labelbottom=False)
        ax_treatments.set_xlabel("Date (partial dates placed mid-period; bars show the period they may mean)")
        title = f"Case {printable(case.id)}" if case.id else "Case timeline"
        figure.suptitle(f"{title}: episodes, tryptase and treatments", fontsize=FONT_PT + 2, fontweight="bold")
        figure.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=FONT_PT - 1, frameon=False)
        if undated:
            figure.text(0.01, 0.003, printable(f"Episodes without a date, not shown: {', '.join(undated)}"), fontsize=FONT_PT - 1, color=palette.GREY)
        _separate_labels(figure)
    return figure


def _separate_labels(figure: Figure) -> None:
    """Move each point's label up until it covers no label placed before it (left to right, bottom up).

    Measured on the laid-out figure, so it holds for any dates and values;
    a label that moves keeps pointing at its own point by its position above it.
    """
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # lays out the constrained axes: the extents below are final
    renderer = canvas.get_renderer()
    labels = [a for a in figure.findobj(lambda artist: artist.get_gid() == VALUE_LABEL)]
    placed: list[Any] = []
    for label in sorted(labels, key=lambda a: (a.get_window_extent(renderer).x0, a.get_window_extent(renderer).y0)):
        dx, dy = label.xyann
        for _ in range(len(labels)):
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                break
            dy += LABEL_STEP_PT
            label.xyann = (dx, dy)
        placed.append(label.get_window_extent(renderer))


def save_timeline(
    case: Case,
    evaluation: dict[str, Any],
    path: str | os.PathLike[str],
    *,
    response: ResponseSummary | None = None,
    as_of: str | date | None = None,
) -> Path:
    """Write the timeline as PNG, SVG or PDF (by the file's suffix), whole or not at all."""
    target = Path(path)
    file_format = FORMATS.get(target.suffix.lower())
    if file_format is None:
        raise ValueError(f"{target}: the timeline is written as .png, .svg or .pdf (got {target.suffix or 'no suffix'!r})")
    content = save_figure_bytes(timeline_figure(case, evaluation, response=response, as_of=as_of), file_format)
    write_atomically(target, content)
    return target


def save_figure_bytes(figure: Figure, file_format: str) -> bytes:
    """The figure encoded as ``png``, ``svg`` or ``pdf``."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # a name in a script DejaVu Sans lacks is drawn as a box; the warning would only alarm a CLI user
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        figure.savefig(buffer, format=file_format, dpi=PNG_DPI, metadata=_metadata(file_format))
    return buffer.getvalue()


def _metadata(file_format: str) -> dict[str, Any] | None:
    # fixed metadata: the same case gives byte-stable SVG/PDF (no creation date)
    if file_format == "svg":
        return {"Date": None}
    if file_format == "pdf":
        return {"CreationDate": None}
    return None
