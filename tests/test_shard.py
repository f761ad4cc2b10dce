"""``[probed] shard = "i/n"`` and ``location``: rendezvous hashing shares one monitors.toml
between instances, each checking, exporting and alerting only its share."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from probed.cli import summary_table
from probed.config import Config, Monitor, Settings, load_config
from probed.config.shard import Shard, owner, parse_shard
from probed.service.build import Parts, build
from tests.kit.clock import FakeClock

NAMES = [f"monitor {i}" for i in range(3000)]


def test_every_monitor_belongs_to_exactly_one_shard() -> None:
    for count in (1, 2, 3, 7):
        shards = [Shard(i, count) for i in range(1, count + 1)]
        for name in NAMES[:500]:
            assert sum(shard.owns(name) for shard in shards) == 1


def test_shards_get_about_equal_shares() -> None:
    shares = [sum(Shard(i, 3).owns(name) for name in NAMES) for i in (1, 2, 3)]
    assert sum(shares) == len(NAMES)
    assert all(900 <= share <= 1100 for share in shares), shares


def test_adding_a_shard_moves_only_the_monitors_the_new_shard_takes() -> None:
    before = {name: owner(name, 3) for name in NAMES}
    after = {name: owner(name, 4) for name in NAMES}
    moved = [name for name in NAMES if before[name] != after[name]]
    assert all(after[name] == 4 for name in moved)
    # About a quarter moves, not the ~3/4 that `hash % n` would reshuffle.
    assert 600 <= len(moved) <= 900, len(moved)


def test_every_process_agrees_on_the_owner_whatever_its_hash_seed() -> None:
    script = (
        "from probed.config.shard import owner\n"
        "print(','.join(str(owner(f'monitor {i}', 5)) for i in range(200)))"
    )
    answers = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert answers == {",".join(str(owner(f"monitor {i}", 5)) for i in range(200)) + "\n"}


@pytest.mark.parametrize(("text", "shard"), [("2/3", Shard(2, 3)), (" 1 / 1 ", Shard(1, 1))])
def test_a_shard_is_written_i_of_n(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard and str(shard) == text.replace(" ", "")


def config_file(tmp_path: Path, probed: str, names: list[str]) -> Path:
    path = tmp_path / "monitors.toml"
    monitors = "".join(
        f'[[monitor]]\nname = "{name}"\nurl = "http://127.0.0.1:9/{i}"\n'
        for i, name in enumerate(names)
    )
    path.write_text(f"[probed]\n{probed}\n{monitors}")
    return path


def test_location_comes_from_the_file_else_from_the_environment(tmp_path: Path) -> None:
    env = {"PROBED_LOCATION": "ams"}
    in_file = load_config(config_file(tmp_path, 'location = "fra"', []), env)
    from_env = load_config(config_file(tmp_path, "", []), env)
    unset = load_config(config_file(tmp_path, "", []), {})
    assert in_file.settings.location == "fra"
    assert from_env.settings.location == "ams"
    assert unset.settings.location is None


def test_probed_check_prints_the_shares_of_the_shard(tmp_path: Path) -> None:
    names = NAMES[:40]
    share = sum(Shard(2, 3).owns(name) for name in names)
    config = load_config(config_file(tmp_path, 'shard = "2/3"\nlocation = "fra"', names), {})
    lines = summary_table(config).splitlines()
    assert f"shard 2/3: {share} of 40 monitors" in lines
    assert "location fra" in lines


def test_source_address_from_defaults_applies_unless_a_monitor_sets_its_own(tmp_path):
    path = tmp_path / "monitors.toml"
    path.write_text(
        '[defaults]\nsource_address = "${SOURCE}"\n'
        '[[monitor]]\nname = "a"\nurl = "http://127.0.0.1/"\n'
        '[[monitor]]\nname = "b"\nurl = "http://[::1]/"\nsource_address = "0:0::1"\n'
    )
    config = load_config(path, {"SOURCE": "127.0.0.2"})
    assert [m.source_address for m in config.monitors] == ["127.0.0.2", "::1"]


def sharded(tmp_path: Path, shard: Shard | None, names: list[str]) -> Config:
    monitors = tuple(
        Monitor(name=n, url=f"http://{i}.test/", interval=60) for i, n in enumerate(names)
    )
    settings = Settings(state_dir=tmp_path, shard=shard, location="b")
    return Config(tmp_path / "monitors.toml", settings, monitors)


async def test_an_instance_tracks_schedules_and_exports_only_its_shards_monitors(tmp_path):
    names = NAMES[:30]
    mine = {n for n in names if Shard(1, 3).owns(n)}
    parts = build(sharded(tmp_path, Shard(1, 3), names), FakeClock())
    parts.scheduler.start()
    try:
        assert set(parts.pipeline.monitors) == mine and 0 < len(mine) < len(names)
        assert all(parts.scheduler.next_run(n) is not None for n in mine)
        assert all(parts.scheduler.next_run(n) is None for n in set(names) - mine)
        metrics = parts.metrics.render().decode()
        exported = {n for n in names if f'probed_monitor_status{{monitor="{n}"}}' in metrics}
        assert exported == mine
        assert 'location="b",version=' in metrics or 'location="b"' in metrics

        # A reload that changes the shard stops the monitors it gives away and starts the
        # ones it gets.
        changes = parts.apply(sharded(tmp_path, Shard(2, 3), names))
        theirs = {n for n in names if Shard(2, 3).owns(n)}
        assert set(parts.pipeline.monitors) == theirs
        assert set(changes.removed) == mine and set(changes.added) == theirs
        assert all(parts.scheduler.next_run(n) is None for n in mine)
        metrics = parts.metrics.render().decode()
        assert {n for n in names if f'monitor="{n}"' in metrics} == theirs

        # Without a shard: every monitor.
        parts.apply(sharded(tmp_path, None, names))
        assert set(parts.pipeline.monitors) == set(names)
    finally:
        await parts.scheduler.drain(0)
        await parts.aclose()


def build_info(parts: Parts) -> list[str]:
    lines = parts.metrics.render().decode().splitlines()
    return [line for line in lines if line.startswith("probed_build_info")]


async def test_the_location_labels_probed_build_info_and_follows_a_reload(tmp_path):
    parts = build(sharded(tmp_path, None, ["a"]), FakeClock())
    try:
        info = build_info(parts)
        assert len(info) == 1 and 'location="b"' in info[0]
        config = sharded(tmp_path, None, ["a"])
        parts.apply(replace(config, settings=replace(config.settings, location=None)))
        info = build_info(parts)
        assert len(info) == 1 and 'location=""' in info[0]
    finally:
        await parts.aclose()
