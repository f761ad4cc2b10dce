"""What each key of monitors.toml does, in a user's words, for the configuration reference.

probed.config.reference renders docs/configuration.md from the config model; the model knows
each key's name, type and default but speaks in its own units (seconds, None), so the sentence a
reader needs lives here, by table. A key missing here falls back to its field's docstring, and
tests/test_config_reference.py fails for a key that has neither, or for an entry here that
names no key.
"""

from __future__ import annotations

from typing import Final

HELP: Final[dict[str, dict[str, str]]] = {
    "probed": {
        "listen": "Address of /metrics, /healthz, the API and the status page: `host:port` or"
        " `[ipv6]:port`. `$PROBED_LISTEN` takes precedence (the Docker image sets it).",
        "state_dir": "Directory of the SQLite state database (created mode 0600).",
        "api_token": "Bearer token for changes through the API (pause, resume, reload,"
        " announcements) and the UptimeRobot API's `api_key`. Without it the API is read-only.",
        "api_token_file": "A file holding `api_token` (the trailing newline is dropped).",
        "status_page_title": "Heading of the public status page.",
        "status_page_show_urls": "Show monitors' URLs on the status page and its JSON"
        " (credentials always shown as `***`).",
        "public_listen": "A second listener that serves only the status page, `/api/v1/status`,"
        " `/badge/…`, `/static/…` and `/push/…`, for a reverse proxy.",
        "max_concurrent_checks": "At most this many checks run at the same time; the rest wait"
        " their turn.",
        "shutdown_grace": "On SIGTERM, how long to wait for running checks and unsent alerts"
        " before exiting anyway.",
        "alert_max_age": "An alert not delivered after this long is dropped, loudly (error log and"
        ' `probed_alerts_total{outcome="failed"}`).',
        "storm_threshold": "Alerts of one kind (DOWN, UP) sent singly within `storm_window`; the"
        " rest are gathered into one digest at the end of the window.",
        "storm_window": "The window of `storm_threshold`.",
        "connectivity_check": "`host:port` addresses: before a failed check counts, one of them"
        ' must accept a TCP connection, else the failure is "probe host offline" and nothing'
        " alerts. Empty: no such check. Changing it needs a restart.",
        "raw_retention": "Every check result is kept raw this long (at least 1h), then as hourly"
        " roll-ups.",
        "history_retention": "Roll-ups and transitions (uptime ratios, incidents) are kept this"
        " long (at least 1d); hourly roll-ups become daily ones after 90 days.",
        "location": "Name of this vantage point: labels `probed_build_info` and alerts (webhook"
        " `location`, Alertmanager label).",
        "shard": '`"i/n"`: check only the monitors that rendezvous hashing of their names gives to'
        " shard i of n, so n machines share one monitors.toml.",
        "external_url": "The base URL people reach probed's API on, e.g."
        " `https://probed.example.com` (no query; a trailing `/` is dropped): alerts link to"
        " the incident and carry a one-click acknowledgement link on it. Unset: no links, and"
        " `probed check` says so.",
        "sentry_dsn": "Send probed's own errors (its ERROR log lines, never a target's failure)"
        " to Sentry, scrubbed as log lines are; needs `pip install 'probed[sentry]'` (without"
        ' it a warning at start). `""` turns it off even when `$SENTRY_DSN` is set.',
        "rdap_bootstrap": "A URL or file (relative to monitors.toml) in IANA's RDAP bootstrap"
        " format (`dns.json`), read instead of the copy shipped with probed and again at most"
        " once a day: for tests and sites that cannot reach data.iana.org.",
    },
    "monitor": {
        "name": "Unique; the label in metrics, the API and alerts.",
        "url": "What is checked: `http://` or `https://`; `tcp://host:port` for tcp;"
        " `dns://[server[:port]]/name?type=A` for dns (no server: the system's resolvers);"
        " `icmp://host` or a bare host for ping; a domain name alone (`example.com`) for domain;"
        " `smtp://`, `imap://`, `pop3://host[:port]` (`smtps://`, `imaps://`, `pop3s://`: TLS"
        " from the first byte) for the mail kinds; push monitors have none.",
        "type": "The kind of check (see the kinds table).",
        "interval": "How often the monitor is checked (1s at least).",
        "timeout": "How long a whole check may take (connect, TLS, headers and body); at most"
        " the interval.",
        "down_after": "Consecutive failed checks before the monitor is DOWN and alerts (1: at"
        " once).",
        "retry_interval": "How often to re-check while a failure is not yet confirmed.",
        "up_after": "Consecutive good checks before a DOWN monitor is UP again.",
        "remind_every": 'Repeat the DOWN alert this often while the monitor stays down; "0":'
        " never.",
        "alert": "Names of the `[alerts.*]` channels to notify; `[]` sends no alerts.",
        "verify_tls": "Verify certificates wherever the check talks TLS; false accepts any"
        " certificate.",
        "ca_file": "PEM bundle to trust instead of the system store.",
        "paused": "true: not checked and never alerts (pause and resume through the API answer"
        " 409).",
        "public": "Show the monitor on the status page, its JSON and badges.",
        "id": "Pin the API id (a positive integer, unique); otherwise the store assigns a stable"
        " one the first time it sees the name.",
        "group": "The status page section the monitor is listed under; one line (no control"
        " characters).",
        "slo": '30-day uptime objective, e.g. `"99.9%"`: error budget on the page, in the API and'
        " as `probed_slo_error_budget_remaining_ratio`.",
        "slow_threshold": "Degraded (alert, page, `probed_monitor_degraded`) while the mean of the"
        " last 3 good checks is slower; below the timeout.",
        "source_address": "Local IP address (IPv4 or IPv6) the check's connections and DNS"
        " queries are sent from.",
        "severity": "Free text every channel passes on (e.g. route `critical` to SMS); one line.",
        "tags": "Labels for channels (webhook `tags`, Alertmanager labels); names are letters,"
        " digits and `_`, values one line.",
        "runbook": "An http(s) URL of what to do when the monitor is down: in every alert, on"
        " the incident and in the post-mortem.",
        "escalate": 'Steps such as `[{ after = "15m", alert = ["pagerduty"] }]`: while an'
        " incident is open and not acknowledged, each step sends its DOWN to the step's"
        " channels once `after` has passed since the confirmed DOWN. `after` greater than 0 and"
        " increasing from step to step; a monitor's list replaces `[defaults]`'.",
        "evidence_bytes": "Bytes of a failed check's body kept with its incident as evidence"
        " (0-65536; 0: none); only bytes the check read anyway.",
        "domain_expiry_days": "Watch the registration of the URL's registrable domain (RDAP,"
        " asked at most every 12 h per domain): DOMAIN alerts below this many days (1-3650) and"
        ' again at 30, 14, 7 and 0; never a DOWN. `type = "domain"` monitors: 30 when unset.',
        "method": "GET HEAD POST PUT PATCH DELETE OPTIONS; a HEAD answered 405/501 is retried as"
        " GET. keyword and json checks always GET.",
        "expect_status": 'Statuses that count as up: codes (`200`), classes (`"2xx"`) or ranges'
        ' (`"200-399"`).',
        "headers": "Request headers; a monitor's are added to `[defaults]`' and replace one with"
        " the same name (case-insensitive).",
        "body": "Request body, e.g. for POST.",
        "basic_auth": '`{ username = "u", password = "${PASS}" }`, or `password_file` instead of'
        " `password`.",
        "follow_redirects": "Follow HTTP redirects (configured headers and credentials only within"
        " the monitor's origin).",
        "max_redirects": "Redirects followed at most (0-50).",
        "max_body": "Bytes of the body a check reads at most.",
        "client_cert": "PEM client certificate for mutual TLS, with `client_key` (both or"
        " neither); read at every check, so a renewed file is used at once.",
        "client_key": "PEM private key of `client_cert`.",
        "proxy": '`"http://[user:pass@]proxy:3128"`: https through a CONNECT tunnel, http in'
        " absolute form; the credentials are never shown.",
        "oauth2": '`{ token_url = "...", client_id = "...", client_secret = "${SECRET}" }`'
        " (or `client_secret_file`), `scopes = [...]`: OAuth2 client credentials; the token is"
        " cached until shortly before it expires and replaced once on a 401.",
        "keyword": "The text the body must contain.",
        "keyword_case_sensitive": "Match the keyword's case too.",
        "keyword_absent": "true: up when the keyword is NOT in the body.",
        "json_query": "A JMESPath expression (jmespath.org), e.g. `status` or"
        " `length(checks[?status!='ok'])`.",
        "json_expect": "Any TOML value the query must give (1 equals 1.0, true is not 1); without"
        " it the result must not be false, null or empty.",
        "expect": "Values the answer must all hold (`10 mail.example.com` for MX, the text for"
        " TXT; names without the final dot).",
        "tls": "true: the connection must also complete a TLS handshake, verified as for https"
        " (`verify_tls`, `ca_file`) and judged on `ssl_expiry_days`.",
        "ssl_expiry_days": "DOWN when the certificate expires within this many days (0-3650);"
        " SSL alerts at lower thresholds of 30, 14, 7 and 1 days.",
        "count": "ping: echo requests sent per check (1-100).",
        "loss_max": "ping: DOWN when more than this share of the requests go unanswered, a"
        ' ratio (`0.2`) or a percentage (`"20%"`); unset: DOWN only when all are lost.',
        "ip_version": 'ping: which address of a name is pinged: `4`, `6` or `"auto"` (the'
        " resolver's first).",
        "starttls": "After the greeting, upgrade to TLS (STARTTLS; POP3's"
        " STLS), verified as for https and judged on `ssl_expiry_days`; not with an `s://` URL.",
        "ehlo": "The name probed gives in SMTP's EHLO (a host name or `[address]`).",
        "expect_banner": "Text the server's greeting must contain (case-sensitive).",
        "token": "At least 16 of `A-Z a-z 0-9 - _ . ~` (e.g. `openssl rand -hex 16`); the job"
        " calls `/push/<token>`.",
        "token_file": "A file holding `token` (the trailing newline is dropped).",
        "grace": "How late a ping may be after `interval`.",
    },
    "channel": {
        "type": "The channel's type; may be left out when the table's NAME is the type.",
        "kinds": "Only these alert kinds reach the channel.",
        "timeout": "Give up on one delivery attempt after this long.",
    },
    "email": {
        "host": "SMTP server.",
        "port": "SMTP port.",
        "security": '`"starttls"` refuses plain text when the server offers no STARTTLS; `"tls"`'
        " is implicit TLS; certificates and host names are always verified.",
        "username": "For SMTP AUTH; needed when a password is set.",
        "password": "SMTP password, e.g. `${SMTP_PASSWORD}`.",
        "password_file": "A file holding `password`.",
        "from": 'Sender, e.g. `"probed <probed@example.com>"`; its domain names the Message-IDs.',
        "to": "One recipient or a list.",
        "timeout": "Per SMTP step (connect, each command).",
        "ca_file": "PEM bundle to trust for the SMTP server instead of the system store.",
    },
    "webhook": {
        "url": "Where the alert's JSON document is POSTed.",
        "headers": 'Request headers, e.g. `{ Authorization = "Bearer ${HOOK_TOKEN}" }`.',
        "secret": "Signs the body: `X-Probed-Signature: sha256=<hex HMAC-SHA256 of the body>`.",
        "secret_file": "A file holding `secret`.",
        "template": "A Jinja2 template (sandboxed) for the body instead of the JSON document.",
    },
    "alertmanager": {
        "urls": "Alertmanager base URLs; every one gets every alert at `<url>/api/v2/alerts`.",
        "resend_every": "Firing alerts are re-sent this often, valid (`endsAt`) four times as"
        " long.",
    },
    "apprise": {
        "urls": "apprise service URLs (Slack, Telegram, ntfy, Teams, Twilio SMS, …).",
    },
    "maintenance": {
        "name": 'Shown as the pause reason: `maintenance window "NAME"`.',
        "monitors": 'Names of the monitors it pauses, or `"*"` for every monitor.',
        "start": "One-off windows: the start, with its UTC offset (TOML date-time or RFC 3339).",
        "end": "One-off windows: the end, with its UTC offset.",
        "days": "Weekly windows: the days an occurrence starts.",
        "time": "Weekly windows: the local start time, `HH:MM`.",
        "duration": "Weekly windows: how long each occurrence lasts (at most a week).",
        "timezone": "Weekly windows: IANA timezone of `time`; follows daylight saving.",
    },
    "status_page": {
        "title": "Heading of the page; wins over `[probed] status_page_title`.",
        "logo": "A png, svg, jpg or webp file (at most 256 KiB) shown beside the title, served"
        " as `/static/logo.<ext>`.",
        "accent": 'Colour of links, the header rule and charts: `"#rgb"` or `"#rrggbb"`.',
        "footer_links": 'Links under the page: `[{ title = "Terms", url = "https://…" }]`.',
        "monitors": "Names of the monitors shown, in this order (each `public`); default: every"
        " public monitor in file order.",
        "timezone": "IANA timezone of the times on the page (day bars stay UTC days).",
        "embed_origins": 'Origins that may frame `/embed` (`"https://www.example.com"`);'
        " default: none.",
        "layout": '`"compact"` (a line per monitor, details on a click) or `"cards"`; default:'
        " compact past 20 shown monitors.",
    },
    "report": {
        "every": 'How often: `"1w"` (weekly) or `"1mo"` (monthly).',
        "at": 'When, ending the period: `"Mon 08:00"` weekly, `"1 08:00"` (day of month, 1–28)'
        " monthly.",
        "timezone": "IANA timezone of `at` and of the times the report shows.",
        "alert": "Channels the report mail goes to (email gets HTML and text, others the text);"
        " none: only `probed report` prints it.",
    },
    "subscriptions": {
        "url": "Where incident news and maintenance notices are POSTed as JSON.",
        "secret": "Signs the body: `X-Probed-Signature: sha256=<hex HMAC-SHA256 of the body>`.",
        "secret_file": "A file holding `secret`.",
        "timeout": "How long one POST may take.",
    },
}
"""By table ("probed", "monitor" (also [defaults] and every kind's keys), "channel" (what every
[alerts.NAME] shares), one per channel type, "maintenance", "subscriptions"), then by key."""

DEFAULT_TEXT: Final[dict[str, dict[str, str]]] = {
    "probed": {
        "state_dir": "`$STATE_DIRECTORY`, else `$XDG_STATE_HOME/probed`, else"
        " `~/.local/state/probed`",
        "location": "`$PROBED_LOCATION`, else none",
        "sentry_dsn": "`$SENTRY_DSN`, else none",
    },
    "monitor": {
        "timeout": '`"30s"`, or the interval if shorter',
        "retry_interval": '`"30s"`, or the interval if shorter',
        "alert": "every configured channel",
        "expect_status": '`["2xx"]`',
        "grace": 'the interval, at most `"1h"`',
        "down_after": "`3` (push: `1`, unless the monitor sets it)",
        "url": "**required** (push: none)",
        "token": "**required** (or `token_file`)",
        "tags": "`{}`",
        "escalate": "`[]` (no escalation)",
    },
    "channel": {"kinds": "all"},
    "email": {"port": "`587`; `465` for `tls`, `25` for `none`"},
    "status_page": {
        "title": "`[probed] status_page_title`",
        "layout": "compact past 20 monitors, else cards",
        "monitors": "every public monitor",
        "embed_origins": "`[]` (no one may frame `/embed`)",
    },
    "maintenance": {
        "days": "— (required in weekly windows)",
        "time": "— (required in weekly windows)",
        "duration": "— (required in weekly windows)",
        "start": "— (required in one-off windows)",
        "end": "— (required in one-off windows)",
    },
    "report": {"at": '`"Mon 08:00"` (`"1 08:00"` monthly)', "alert": "`[]`"},
}
"""Defaults the model cannot state as one value (they depend on the environment or on
another key)."""

TYPE_TEXT: Final[dict[str, dict[str, str]]] = {
    "probed": {"shard": 'string `"i/n"`'},
    "monitor": {"slo": 'string, a percentage (`"99.9%"`)', "tags": "table of strings"},
}
"""Types the schema leaves open (any value) or that it knows by another form."""
