"""The composition root: build() wires every part, Parts.apply() is where a config reaches them."""

from __future__ import annotations

from dataclasses import replace

from probed.config import Config, Monitor, Settings
from probed.config.maintenance import MaintenanceWindow
from probed.history import Retention
from probed.model import Status
from probed.service.build import build
from tests.kit.clock import T0, FakeClock
from tests.kit.configs import email_channel


def config_of(tmp_path, monitors, **settings) -> Config:
    base = Settings(state_dir=tmp_path, api_token="one")
    return Config(tmp_path / "monitors.toml", replace(base, **settings), tuple(monitors))


def site(name: str, **overrides: object) -> Monitor:
    return replace(Monitor(name=name, url=f"http://{name}.test/", interval=60), **overrides)  # type: ignore[arg-type]


async def test_apply_reports_what_changed_and_reaches_every_part(tmp_path):
    clock = FakeClock()
    parts = build(
        config_of(tmp_path, [site("kept"), site("gone"), site("moved"), site("slow")]), clock
    )
    parts.scheduler.start()
    try:
        window = MaintenanceWindow("fix", None, start=T0, end=T0)
        new = replace(
            config_of(
                tmp_path,
                [
                    site("kept"),
                    site("moved", url="http://elsewhere.test/"),
                    site("slow", interval=300),
                    site("new"),
                ],
                api_token="two",
                listen="127.0.0.1:9999",
                raw_retention=3600.0,
                alert_max_age=60.0,
                sentry_dsn="http://key@127.0.0.1:9/1",
            ),
            alerts=(("email", email_channel(25)),),
            maintenance=(window,),
        )
        changes = parts.apply(new)
        assert changes.added == ["new"]
        assert changes.removed == ["gone"]
        assert changes.restarted == ["moved"]
        assert changes.rescheduled == ["slow"]
        assert changes.needs_restart == ["listen", "sentry_dsn"]
        assert sorted(parts.pipeline.monitors) == ["kept", "moved", "new", "slow"]
        assert parts.scheduler.next_run("gone") is None
        assert all(parts.scheduler.next_run(n) is not None for n in parts.pipeline.monitors)
        assert parts.recorder.config is new and parts.config is new
        assert list(parts.dispatcher.channels) == ["email", "(subscribers)"]
        assert parts.dispatcher.max_age == 60.0
        assert parts.history.retention == Retention(3600.0, new.settings.history_retention)
        assert parts.pauses.windows == (window,)
        assert parts.api.token == "two"
    finally:
        await parts.scheduler.drain(0)
        await parts.aclose()


async def test_a_monitor_paused_in_the_file_is_paused_by_apply_and_unpaused_by_the_next(tmp_path):
    parts = build(config_of(tmp_path, [site("a", paused=True)]), FakeClock())
    assert parts.pipeline.monitors["a"].state.status is Status.PAUSED
    changes = parts.apply(config_of(tmp_path, [site("a")]))
    assert changes.added == changes.removed == changes.restarted == []
    assert parts.pipeline.monitors["a"].state.status is Status.PENDING
    assert parts.pipeline.monitors["a"].state.reason == "unpaused in monitors.toml"
    await parts.aclose()


async def test_state_survives_a_rebuild_on_the_same_state_directory(tmp_path):
    config = config_of(tmp_path, [site("a", paused=True)])
    parts = build(config, FakeClock())
    await parts.aclose()
    again = build(config, FakeClock())
    assert again.pipeline.monitors["a"].state.reason == "paused in monitors.toml"
    assert [t.kind.value for t in again.store.transitions(again.pipeline.monitors["a"].id)] == [
        "paused"
    ]
    await again.aclose()
