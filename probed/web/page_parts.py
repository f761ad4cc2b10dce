"""Pieces of the status page built in Python rather than in the template: the 90-day bars and
the response-time chart. A page of 500 monitors has 45,000 bars, and a Jinja loop costs several
times a join over precomputed strings; none of these pieces carries text from monitors.toml."""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup

from probed.status.days import Day
from probed.units import format_span

CHART_WIDTH = 240
CHART_HEIGHT = 48
DAY_SECONDS = 86400.0


def percent(ratio: float | None, digits: int = 2) -> str:
    """``99.95%``, truncated so that 99.999 % never reads as a perfect 100.00 %."""
    if ratio is None:
        return "no data"
    if ratio >= 1.0:
        return "100%"
    scale = 10**digits
    return f"{int(ratio * 100 * scale) / scale:.{digits}f}%"


def day_class(ratio: float | None) -> str:
    """A bar's colour class: n no data, a 100 %, b ≥ 99 %, c ≥ 95 %, e below."""
    if ratio is None:
        return "n"
    if ratio >= 1.0:
        return "a"
    if ratio >= 0.99:
        return "b"
    return "c" if ratio >= 0.95 else "e"


def day_title(day: Day) -> str:
    ratio = day.ratio
    if ratio is None:
        return f"{day.date.isoformat()}: no data"
    down = "no downtime" if day.down_seconds <= 0 else f"down {format_span(day.down_seconds)}"
    return f"{day.date.isoformat()}: {percent(ratio)} up, {down}"


def bar(day: Day) -> str:
    return f'<i class={day_class(day.ratio)} title="{day_title(day)}"></i>'


class Bars:
    """One bar per day, coloured by class; 45,000 days on a page of 500 monitors, so the
    markup is as short as it can be. A day with downtime is an ``<i>`` of its own with its
    date, ratio and downtime as a ``title``, so it reads the same with JavaScript off. Runs
    of perfect days (class ``a``) and of days before the monitor existed (``n``, or no class)
    are one ``<i>`` each, ``a12`` being twelve perfect days, as wide as twelve bars (status.css)
    and without a title: ``refresh.js`` splits each run into one ``<i>`` per day and gives it
    its tooltip ("2026-11-02: 100% up, no downtime", "…: no data") from the row's
    ``data-first`` date and the bar's position."""

    def __init__(self) -> None:
        self._tails: dict[tuple[float, float], str] = {}
        """The class and the title after the date, by up and down seconds: the same
        downtime recurs across days and monitors, and formatting it is most of a bar's cost."""

    def __call__(self, days: list[Day]) -> Markup:
        out = []
        tails = self._tails
        run, length = "", 0
        for d in days:
            if d.down_seconds > 0:
                if length:
                    out.append(_run(run, length))
                    length = 0
                key = (d.up_seconds, d.down_seconds)
                tail = tails.get(key)
                if tail is None:
                    tail = tails[key] = _tail(d)
                out.append(f'<i class={tail[0]} title="{d.date.isoformat()}: {tail[1:]}"></i>')
                continue
            kind = "a" if d.up_seconds > 0 else "n"
            if kind != run and length:
                out.append(_run(run, length))
                length = 0
            run = kind
            length += 1
        if length:
            out.append(_run(run, length))
        first = days[0].date.isoformat() if days else ""
        return Markup(
            f'<div class="bars" data-first="{first}" role="img"'
            f' aria-label="daily uptime, last 90 days">{"".join(out)}</div>'
        )


def _tail(day: Day) -> str:
    """A day with downtime's class letter, then its title without the date."""
    title = day_title(day)
    return day_class(day.ratio) + title[title.index(": ") + 2 :]


def _run(kind: str, length: int) -> str:
    if length == 1:
        return "<i class=a></i>" if kind == "a" else "<i></i>"
    return f"<i class={kind}{length}></i>"


def chart(points: list[tuple[float, float]], now: datetime) -> Markup:
    """The last 24 h of hourly mean response times as an inline SVG line (empty without any)."""
    if not points:
        return Markup('<p class="chart-axis">no response times in the last 24 h</p>')
    end = now.timestamp()
    start = end - DAY_SECONDS
    top = max(s for _, s in points) * 1.1 or 1.0
    coords = []
    for t, s in points:
        # An hour's mean is drawn at the middle of its hour.
        x = (min(max(t + 1800, start), end) - start) / DAY_SECONDS * CHART_WIDTH
        y = CHART_HEIGHT - 2 - s / top * (CHART_HEIGHT - 4)
        coords.append(f"{x:.1f},{y:.1f}")
    peak = max(s for _, s in points)
    label = f"response time, last 24 h: peak {peak * 1000:.0f} ms"
    # preserveAspectRatio none: the line spans the card's width at any screen size.
    return Markup(
        f'<svg class="chart" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img"'
        f' preserveAspectRatio="none" aria-label="{label}"><title>{label}</title>'
        f'<polyline points="{" ".join(coords)}"/></svg>'
        f'<div class="chart-axis"><span>response time, 24 h ago</span>'
        f"<span>peak {peak * 1000:.0f} ms</span><span>now</span></div>"
    )


def milliseconds(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.0f} ms"
