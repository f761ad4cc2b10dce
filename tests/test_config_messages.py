"""What a refused config prints: no URL's password in any message (check, the reload API, the
log), and at most 50 problems, then how many more."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.kit.processes import DaemonProcess, free_port, probed

SECRET = "PASSWORD-s3cr3t"
BAD_URLS = {
    "scheme": f"ftp://u:{SECRET}@host/",
    "port": f"https://u:{SECRET}@host:99999/",
    "space": f"https://u:{SECRET}@host/a b",
}


def monitors(urls: dict[str, str]) -> str:
    return "".join(f'[[monitor]]\nname = "{n}"\nurl = "{u}"\n' for n, u in urls.items())


def test_check_names_every_bad_url_without_its_password(tmp_path: Path) -> None:
    config = tmp_path / "monitors.toml"
    config.write_text(monitors(BAD_URLS), encoding="utf-8")
    done = probed("check", "-c", str(config))
    assert done.returncode == 1
    assert SECRET not in done.stdout + done.stderr
    assert done.stderr.count("u:***@host") == len(BAD_URLS)


def test_check_prints_the_first_50_problems_then_a_count(tmp_path: Path) -> None:
    config = tmp_path / "monitors.toml"
    config.write_text(monitors({f"m{i}": "ftp://host/" for i in range(130)}), encoding="utf-8")
    done = probed("check", "-c", str(config))
    lines = done.stderr.splitlines()
    assert lines[0] == f"{config}: 130 problem(s):"
    assert len(lines) == 52
    assert 'monitor "m49" (#50) url' in lines[50]
    assert lines[51] == "  … and 80 more problems"


@pytest.mark.slow
async def test_a_refused_reload_answers_and_logs_without_the_password(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "monitors.toml"
    head = (
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n'
        'api_token = "token-for-the-test"\n'
    )
    config.write_text(head, encoding="utf-8")
    daemon = DaemonProcess(config, port)
    await daemon.start()
    try:
        config.write_text(head + monitors(BAD_URLS), encoding="utf-8")
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{daemon.base}/api/v1/reload",
                headers={"Authorization": "Bearer token-for-the-test"},
            ) as response,
        ):
            assert response.status == 422
            answer = await response.text()
        assert SECRET not in answer and answer.count("u:***@host") == len(BAD_URLS)
    finally:
        await daemon.stop()
    assert "reload failed" in daemon.logs() and SECRET not in daemon.logs()
