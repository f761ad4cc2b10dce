"""The status page's content as strings, made in Python: the template only puts them in place.

A page of 500 monitors has 45,000 day bars and 12,000 chart points; a Jinja loop or macro
costs several times a join over strings made here, and the page's size is mostly these pieces,
so their markup is as short as it can be. Only ``MonitorView``'s name and url, incidents'
monitor names and reasons, and ``PostedView``'s title, monitors and update texts carry text
from monitors.toml, a monitored server or a person: they stay plain ``str`` and the template
escapes them. Everything made into ``Markup`` here (a monitor's
body: bars, figures, SLO line, chart; an incident's duration) is made from numbers, dates and
fixed words alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from itertools import compress
from operator import itemgetter, not_, sub
from typing import NamedTuple

from markupsafe import Markup

from probed.history.slo import Budget
from probed.status.days import Daily
from probed.status.report import IncidentReport, MonitorReport, PostedIncident
from probed.units import format_span, iso

CHART_HEIGHT = 40
"""Chart units: one per hour across, 40 up (a 3rem chart is 48 px tall)."""
HOUR = 3600.0
DAY_SECONDS = 86400.0
NBSP = "\u00a0"


def percent(ratio: float | None, digits: int = 2) -> str:
    """``99.95%``, truncated so that 99.999 % never reads as a perfect 100.00 %."""
    if ratio is None:
        return "no data"
    if ratio >= 1.0:
        return "100%"
    scale = 10**digits
    return f"{int(ratio * 100 * scale) / scale:.{digits}f}%"


def milliseconds(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.0f} ms"


class MonitorView(NamedTuple):
    """One monitor on the page, every value a finished string; the template unpacks it."""

    id: int
    name: str
    url: str | None
    state: str
    state_text: str
    bars: Markup
    """The 90 day bars."""
    details: Markup
    """Uptime and response time, SLO line and chart: numbers and fixed words only."""


class IncidentView(NamedTuple):
    monitor: str
    start: str
    duration: Markup
    reason: str


class UpdateView(NamedTuple):
    stage: str
    stage_text: str
    at: str
    """ISO 8601, for <time datetime>."""
    at_text: str
    text: str


class PostedView(NamedTuple):
    """An incident told to people (docs/design.md §18.1); title, monitors and texts are
    people's words, escaped by the template."""

    title: str
    stage: str
    stage_text: str
    monitors: str
    when: str
    updates: list[UpdateView]
    anchor: str
    """``incident-<code>``: what the feeds and the summary link to."""


def _minute(at: datetime) -> str:
    # "2026-11-02 13:05 UTC": isoformat is several times quicker than strftime.
    return at.astimezone(UTC).isoformat(" ", "minutes")[:16] + " UTC"


def posted_view(p: PostedIncident) -> PostedView:
    stage = p.stage or ("resolved" if not p.open else "investigating")
    when = (
        f"since {_minute(p.start)}"
        if p.open
        else f"{_minute(p.start)} to {_minute(p.end or p.start)}"
    )
    return PostedView(
        p.title,
        stage,
        stage.capitalize(),
        ", ".join(p.monitors),
        when,
        [
            UpdateView(u.stage, u.stage.capitalize(), iso(u.at) or "", _minute(u.at), u.text)
            for u in p.updates
        ],
        f"incident-{p.code}",
    )


class PageParts:
    """Makes the views of one page; keeps the strings that recur across its monitors."""

    def __init__(self, now: datetime, zone: tzinfo = UTC) -> None:
        self.now = now
        self.zone = zone
        """Times (an incident's start) are shown in it."""
        self._steps: dict[tuple[int, int], str] = {}
        self._spans: dict[int, str] = {}
        """``format_span`` by whole seconds (all it reads): outages last 5m, 6h… again and again."""
        self._titles: dict[tuple[float, float], str] = {}
        """A downtime day's class letter and title, by its up and down seconds: the same
        downtime recurs across days and monitors, and formatting it is a bar's main cost."""
        end = now.timestamp()
        self._chart_start = end - DAY_SECONDS

    def monitor(self, m: MonitorReport) -> MonitorView:
        up = m.uptime
        facts = (
            f"<dl><dt>24 h<dd>{percent(up['1d'])} <dt>7 d<dd>{percent(up['7d'])}"
            f" <dt>30 d<dd>{percent(up['30d'])} <dt>90 d<dd>{percent(up['90d'])}"
            f" <dt>response 24 h<dd>{milliseconds(m.avg_response).replace(' ', NBSP)}</dl>"
        )
        details = "".join((facts, self.slo_line(m.slo), self.chart(m.response)))
        bars = Markup(self.bars(m.daily))
        return MonitorView(m.id, m.name, m.url, m.state, m.state_text, bars, Markup(details))

    def bars(self, daily: Daily) -> str:
        """The 90 days as a grid of 90 columns (status.css) whose background is a perfect
        day's colour: only days with downtime and runs of days without data are elements,
        placed by class (``e37`` is a day below 95 % in column 37; ``n1 w30``, thirty days of
        no data from column 1). A day with downtime keeps its ratio and downtime as a title
        without JavaScript; ``refresh.js`` makes one bar per day and gives each its full
        tooltip ("2026-11-02: 99.30% up, down 10m"), the date from ``data-first`` on <main>."""
        up, down = daily.up, daily.down
        days = range(len(down))
        titles = self._titles
        placed: list[tuple[int, str]] = []
        # compress() finds the few days that need an element without a Python step per day.
        for i in compress(days, down):
            key = (up[i], down[i])
            title = titles.get(key)
            if title is None:
                title = titles[key] = _title(*key)
            placed.append((i, f'<i class={title[0]}{i + 1} title="{title[1:]}"></i>'))
        # Days without data: none where every day was observed (the usual case, one scan).
        empty = [i for i in compress(days, map(not_, up)) if not down[i]] if 0.0 in up else []
        if empty:
            start = previous = empty[0]
            for i in [*empty[1:], -1]:
                if i != previous + 1:
                    placed.append((start, _no_data(start, previous - start + 1)))
                    start = i
                previous = i
            placed.sort()
        out = [html for _, html in placed]
        return f"<div class=u aria-hidden=true>{''.join(out)}</div>"

    def span(self, seconds: float) -> str:
        whole = max(0, round(seconds))
        text = self._spans.get(whole)
        if text is None:
            text = self._spans[whole] = format_span(whole)
        return text

    def slo_line(self, slo: Budget | None) -> str:
        if slo is None:
            return ""
        if slo.young:
            # The budget scales with the time monitored: an hour old, "0s left (100.0%)"
            # would read as a contradiction. The month's budget says what is at stake.
            spent = f", down {self.span(slo.spent_seconds)} so far" if slo.spent_seconds else ""
            return (
                f"<p class=slo>SLO {slo.objective * 100:g}%: too young to judge (monitored"
                f" {self.span(slo.monitored_seconds)}{spent}); error budget"
                f" {self.span(slo.window_allowed_seconds)} per 30 days</p>"
            )
        head = f"SLO {slo.objective * 100:g}%: 30 days {percent(slo.result, 3)}, "
        left = slo.remaining_seconds
        # Budget shares go past 100 % when overspent: not percent(), which stops at 100 %.
        if left >= 0:
            tail = f"error budget left {self.span(left)} ({_share(slo.remaining_ratio)})"
        else:
            tail = (
                f"<b>error budget exhausted: overspent by {self.span(-left)}"
                f" ({_share(-slo.remaining_ratio)} of the budget)</b>"
            )
        return f"<p class=slo>{head}{tail}</p>"

    def incident(self, i: IncidentReport) -> IncidentView:
        took = self.span(i.duration)
        return IncidentView(
            i.monitor,
            # "2026-11-02 13:05": isoformat is several times quicker than strftime.
            i.start.astimezone(self.zone).isoformat(" ", "minutes")[:16],
            Markup(f"<b>ongoing</b>, {took}" if i.end is None else took),
            i.reason,
        )

    def _step(self, step: tuple[int, int]) -> str:
        """``1-3``, ``1 2``: a negative number needs no space before it."""
        text = self._steps[step] = f"{step[0]}{'' if step[1] < 0 else ' '}{step[1]}"
        return text

    def chart(self, points: list[tuple[float, float]]) -> str:
        """The last 24 h of hourly mean response times as an inline SVG path, one unit per
        hour across: each point at the middle of its hour, relative to the one before, so
        every step is a small integer. A point before the window (the hour holding its start)
        falls just left of the view and is cut off, as is one after ``now``."""
        if not points:
            return "<p class=mute>no response times in the last 24 h</p>"
        peak = max(points, key=itemgetter(1))[1]
        scale = (CHART_HEIGHT - 4) / (peak * 1.1 or 1.0)
        base = CHART_HEIGHT - 2
        ys = [round(base - s * scale) for _, s in points]
        known = self._steps
        if points[-1][0] - points[0][0] == HOUR * (len(points) - 1):
            # No hour missing (the usual case): every step is one hour across.
            steps = [known.get((1, dy)) or self._step((1, dy)) for dy in map(sub, ys[1:], ys)]
        else:
            hours = [round(t / HOUR) for t, _ in points]
            steps = [
                known.get(step) or self._step(step)
                for step in zip(map(sub, hours[1:], hours), map(sub, ys[1:], ys), strict=True)
            ]
        x0 = (points[0][0] + HOUR / 2 - self._chart_start) / HOUR
        path = f"M{x0:.2f} {ys[0]}" + ("l" + " ".join(steps) if steps else "h0")
        # One point is a line of no length: a round cap (class p) draws it as a dot.
        dot = "" if steps else " class=p"
        return (
            f'<svg viewBox="0 0 24 {CHART_HEIGHT}" preserveAspectRatio=none>'
            f'<path{dot} d="{path}"/>'
            f"</svg><p class=r>peak{NBSP}{peak * 1000:.0f}{NBSP}ms</p>"
        )


def _no_data(first: int, count: int) -> str:
    if count == 1:
        return f"<i class=n{first + 1}></i>"
    return f'<i class="n{first + 1} w{count}"></i>'


def day_class(ratio: float | None) -> str:
    """A bar's colour class: n no data, a 100 %, b ≥ 99 %, c ≥ 95 %, e below."""
    if ratio is None:
        return "n"
    if ratio >= 1.0:
        return "a"
    if ratio >= 0.99:
        return "b"
    return "c" if ratio >= 0.95 else "e"


def _title(up: float, down: float) -> str:
    """A day with downtime's class letter, then its title without the date."""
    ratio = up / (up + down)
    return f"{day_class(ratio)}{percent(ratio)} up, down {format_span(down)}"


def _share(ratio: float) -> str:
    return f"{int(ratio * 1000) / 10:.1f}%"
