"""A webhook template that fails when rendered: `probed check` refuses one that fails for a sample
DOWN alert, and one that only fails for other messages sends the default body, never a
traceback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from probed.alerts.webhook_body import template_render_problem
from tests.kit.processes import probed, run_cli
from tests.kit.receiver import Receiver


def hook_config(tmp_path: Path, url: str, template: str) -> Path:
    config = tmp_path / "monitors.toml"
    config.write_text(
        f'[probed]\nstate_dir = "{tmp_path}"\n'
        f'[alerts.hook]\ntype = "webhook"\nurl = "{url}"\ntemplate = \'{template}\'\n'
        '[[monitor]]\nname = "api"\nurl = "https://api.example.invalid/"\n',
        encoding="utf-8",
    )
    return config


def test_check_refuses_a_template_that_fails_for_a_sample_alert(tmp_path: Path) -> None:
    config = hook_config(tmp_path, "http://127.0.0.1:9/hook", '{"n": {{ 1/0 }}}')
    done = probed("check", "-c", str(config))
    assert done.returncode == 1
    assert "[alerts.hook] template: fails when rendered for a sample DOWN alert:" in done.stderr
    assert "ZeroDivisionError: division by zero" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_template_using_every_field_of_an_alert_passes() -> None:
    template = (
        '{"t": {{ text | tojson }}, "m": {{ monitor.name | tojson }}, "tags": {{ monitor.tags |'
        ' tojson }}, "s": {{ monitor.severity | tojson }}, "at": {{ at | tojson }},'
        ' "loc": {{ location | tojson }}, "r": {{ reason | tojson }},'
        ' "body": {{ message | tojson }}}'
    )
    assert template_render_problem(template) is None
    assert template_render_problem("{{ monitor.nope.deeper }}") is not None


async def test_test_alert_sends_the_default_body_when_the_template_fails_for_it(
    tmp_path: Path, receivers: Callable[..., Awaitable[Receiver]]
) -> None:
    receiver = await receivers([200])
    # A test message has no monitor: `monitor.name | tojson` fails for it alone.
    config = hook_config(tmp_path, f"{receiver.url}/hook", '{"m": {{ monitor.name | tojson }}}')
    assert probed("check", "-c", str(config)).returncode == 0
    code, out, err = await run_cli("test-alert", "-c", str(config))
    assert (code, out) == (0, "hook: OK: HTTP 200: ok\n"), err
    assert "Traceback" not in err
    assert "webhook template failed: sent the default JSON body instead" in out + err
    (request,) = receiver.requests
    assert request.json()["kind"] == "test"
