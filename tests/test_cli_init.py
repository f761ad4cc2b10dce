"""``probed init`` as a user runs it: starter files that ``probed check`` accepts, never written
over an existing file without ``--force``."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.kit.processes import run_cli

ROOT = Path(__file__).resolve().parent.parent


async def test_init_writes_a_starter_config_that_check_accepts(tmp_path):
    target = tmp_path / "new" / "dir"
    code, out, err = await run_cli("init", str(target))
    assert code == 0, err
    assert sorted(p.name for p in target.iterdir()) == ["monitors.toml"]
    assert f"wrote {target / 'monitors.toml'}" in out
    code, out, err = await run_cli("check", "-c", str(target / "monitors.toml"))
    assert code == 0, err
    assert "OK, 2 monitors" in out and "probed self (healthz)" in out


async def test_init_systemd_adds_the_unit_and_a_private_env_file(tmp_path):
    code, _, err = await run_cli("init", "--systemd", str(tmp_path))
    assert code == 0, err
    unit = (tmp_path / "probed.service").read_text()
    assert unit == (ROOT / "systemd" / "probed.service").read_text()
    env = tmp_path / "env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "SMTP_PASSWORD=" in env.read_text()


async def test_init_refuses_to_overwrite_and_names_every_existing_file(tmp_path):
    (tmp_path / "monitors.toml").write_text("# mine\n")
    (tmp_path / "env").write_text("MINE=1\n")
    code, out, err = await run_cli("init", "--systemd", str(tmp_path))
    assert code == 1 and out == ""
    assert str(tmp_path / "monitors.toml") in err and str(tmp_path / "env") in err
    assert "--force" in err
    assert (tmp_path / "monitors.toml").read_text() == "# mine\n"
    assert not (tmp_path / "probed.service").exists()
    code, _, err = await run_cli("init", "--systemd", "--force", str(tmp_path))
    assert code == 0, err
    assert (tmp_path / "monitors.toml").read_text().startswith("# monitors.toml")
    assert stat.S_IMODE((tmp_path / "env").stat().st_mode) == 0o600


def test_the_shipped_templates_are_the_repositorys_files():
    # One text, two places: the package cannot reach files outside it once installed.
    templates = ROOT / "probed" / "templates"
    for shipped, original in [
        ("monitors.toml", "monitors.toml"),
        ("probed.service", "systemd/probed.service"),
    ]:
        assert (templates / shipped).read_text() == (ROOT / original).read_text(), (
            f"copy {original} to probed/templates/{shipped}"
        )
