"""Reading the HTTP client options: paths relative to the file, a key that does not match its
certificate, secrets out of reprs (docs/design.md §19.4)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from probed.config import HttpCheck, load_config
from probed.config.http_client import OAuth2
from probed.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitors.toml"
    path.write_text('[[monitor]]\nname = "API"\nurl = "https://api.example.com"\n' + text)
    return path


def test_client_options_are_read_with_paths_relative_to_the_file(
    ca: trustme.CA, tmp_path: Path
) -> None:
    cert = ca.issue_cert("probe.example.test")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "client.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "client.key"))
    (tmp_path / "idp-secret").write_text("s3cret-from-file\n")
    path = write(
        tmp_path,
        'client_cert = "client.pem"\nclient_key = "client.key"\n'
        'proxy = "http://bob:pr0xy-pass@proxy.internal:3128"\n'
        'oauth2 = { token_url = "https://idp.example.com/token", client_id = "probe",'
        ' client_secret_file = "idp-secret", scopes = ["read", "probe"] }\n',
    )
    config = load_config(path, {})
    check = config.monitors[0].check
    assert check == HttpCheck(
        client_cert=str(tmp_path / "client.pem"),
        client_key=str(tmp_path / "client.key"),
        proxy="http://bob:pr0xy-pass@proxy.internal:3128",
        oauth2=OAuth2(
            "https://idp.example.com/token", "probe", "s3cret-from-file", ("read", "probe")
        ),
    )
    assert "pr0xy-pass" not in repr(config) and "s3cret-from-file" not in repr(config)


def test_a_key_that_is_not_the_certificates_is_refused_by_probed_check(
    ca: trustme.CA, tmp_path: Path
) -> None:
    ca.issue_cert("a.example.test").cert_chain_pems[0].write_to_path(str(tmp_path / "a.pem"))
    ca.issue_cert("b.example.test").private_key_pem.write_to_path(str(tmp_path / "b.key"))
    path = write(tmp_path, 'client_cert = "a.pem"\nclient_key = "b.key"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    [problem] = caught.value.problems
    assert problem.startswith(f'{path}: monitor "API" (#1) client_key: "{tmp_path}/b.key" is not')
    assert "key values mismatch" in problem
