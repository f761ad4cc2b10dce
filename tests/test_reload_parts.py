"""A reload reaches every part through that part's own method (``Parts.apply``), and a
monitor's new settings of the same check go through the pipeline, which re-judges degraded."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from probed.config.maintenance import MaintenanceWindow
from probed.history import Retention
from probed.model import Timings
from tests.kit.clock import T0, FakeClock
from tests.kit.configs import email_channel, make_config
from tests.kit.harness import Harness, good
from tests.kit.monitors import make_monitor as make


async def test_a_reload_gives_every_part_its_new_settings(tmp_path: Path) -> None:
    config = make_config(tmp_path, [make("api")], email_channel(2525))
    h = Harness(config, FakeClock())
    try:
        window = MaintenanceWindow("patch", None, start=T0, end=T0 + timedelta(hours=1))
        settings = replace(
            h.parts.config.settings,
            api_token="new-token",
            status_page_title="Acme status",
            status_page_show_urls=True,
            alert_max_age=600.0,
            raw_retention=7200.0,
            history_retention=86400.0,
        )
        h.parts.apply(replace(h.parts.config, settings=settings, maintenance=(window,), alerts=()))
        assert h.parts.api.token == "new-token"
        assert (h.parts.public.title, h.parts.public.show_urls) == ("Acme status", True)
        assert h.parts.dispatcher.max_age == 600.0
        assert list(h.parts.dispatcher.channels) == ["(subscribers)"]  # no alert channel left
        assert h.parts.history.retention == Retention(7200.0, 86400.0)
        assert h.parts.pauses.windows == (window,)
        assert h.parts.recorder.config is h.parts.config
        assert h.parts.public.report().title == "Acme status"
    finally:
        await h.close()


async def test_a_new_slow_threshold_rejudges_degraded_without_an_alert(tmp_path: Path) -> None:
    clock = FakeClock()
    api = make("api", slow_threshold=0.5, down_after=1)
    h = Harness(make_config(tmp_path, [api], email_channel(2525)), clock)
    try:
        for i in range(3):
            await h.feed("api", good(T0 + timedelta(seconds=60 * i), timings=Timings(total=0.8)))
        assert h.tracked("api").degraded and h.metric("probed_monitor_degraded", monitor="api")
        rows = len(h.rows())
        tracked = h.tracked("api")
        h.parts.apply(replace(h.parts.config, monitors=(replace(api, slow_threshold=1.0),)))
        assert h.tracked("api") is tracked  # same check: the runtime state stays
        assert tracked.monitor.slow_threshold == 1.0 and tracked.recent_good == (0.8,) * 3
        assert not tracked.degraded
        assert h.metric("probed_monitor_degraded", monitor="api") == 0.0
        assert len(h.rows()) == rows
    finally:
        await h.close()
