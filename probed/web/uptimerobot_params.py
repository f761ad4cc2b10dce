"""Request parameters of the UptimeRobot v2 API: form or JSON bodies, dash lists, flags, and the
API's error objects (``docs/interfaces.md`` §1.1, §1.4)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

# int() also reads other scripts' digits ("٣"), superscripts pass str.isdigit() yet fail int()
# ("²"), and "1_0" is 10: parameters are ASCII digits, with a sign where a number may have one.
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


class UptimeRobotError(Exception):
    """A request the API answers with ``{"stat": "fail", "error": {...}}``."""

    def __init__(
        self,
        type_: str,
        parameter: str | None = None,
        passed: str | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(message or type_)
        self.error: dict[str, str] = {"type": type_}
        if parameter is not None:
            self.error["parameter_name"] = parameter
        if passed is not None:
            self.error["passed_value"] = passed
        if message is not None:
            self.error["message"] = message

    def response(self) -> web.Response:
        # UptimeRobot answers failures with HTTP 200; clients look at "stat".
        return web.json_response({"stat": "fail", "error": self.error})


def http_error(status: int, reason: str, headers: dict[str, str] | None) -> web.Response:
    """An HTTP-level refusal (405, 413, 500) in the API's error shape, keeping its status."""
    error = {"type": reason.replace(" ", "_"), "message": reason}
    return web.json_response({"stat": "fail", "error": error}, status=status, headers=headers)


def _int(text: str, pattern: re.Pattern[str] = _INTEGER) -> int:
    if not pattern.fullmatch(text):
        raise ValueError(text)
    return int(text)  # ValueError too beyond int()'s 4,300 digits


async def read_params(request: web.Request, *, query: bool) -> dict[str, str]:
    """The request's parameters as text; ``query`` also accepts them in the URL (getMonitors)."""
    params = dict(request.query) if query else {}
    if request.content_type == "application/json":
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise UptimeRobotError(
                    "invalid_parameter", message="the body must be a JSON object"
                )
            # str() of a value nested nearly as deep as the parser allows can recurse too far.
            params.update({str(k): _text(v) for k, v in data.items() if v is not None})
        except (ValueError, RecursionError, LookupError):  # LookupError: an unknown charset
            raise UptimeRobotError(
                "invalid_parameter", message="the body is not valid JSON"
            ) from None
    else:
        try:
            form = await request.post()
        # Bytes not in its charset, an unknown charset, or a multipart body aiohttp cannot
        # read: a part's header line (HttpProcessingError), its transfer encoding (RuntimeError).
        except (ValueError, LookupError, HttpProcessingError, RuntimeError):
            raise UptimeRobotError(
                "invalid_parameter", message="the body is not a valid form"
            ) from None
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return "-".join(str(v) for v in value)
    return str(value)


def flag(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "0").strip().lower() in ("1", "true")


def integer(
    params: Mapping[str, str],
    name: str,
    default: int | None = None,
    low: int = 0,
    high: int | None = None,
) -> int | None:
    text = params.get(name, "").strip()
    if not text:
        return default
    try:
        value = _int(text)
    except ValueError:
        raise UptimeRobotError(
            "invalid_parameter", name, text, f"{name} must be an integer"
        ) from None
    if value < low:
        raise UptimeRobotError("invalid_parameter", name, text, f"{name} must be at least {low}")
    if high is not None and value > high:
        raise UptimeRobotError("invalid_parameter", name, text, f"{name} must be at most {high}")
    return value


def dash_list(
    params: Mapping[str, str], name: str, allowed: Collection[int] | None = None
) -> list[int] | None:
    """``15830-32696`` → [15830, 32696]; None when absent or empty."""
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        values = [_int(part.strip(), _DIGITS) for part in text.split("-")]
    except ValueError:
        raise UptimeRobotError(
            "invalid_parameter", name, text, f"{name} must be integers separated by -"
        ) from None
    if allowed is not None and any(v not in allowed for v in values):
        choices = ",".join(str(v) for v in sorted(allowed))
        raise UptimeRobotError(
            "invalid_parameter",
            name,
            text,
            f"each value in {name} must be one of the following values: {choices}",
        )
    return values


def ranges(params: Mapping[str, str], name: str) -> list[tuple[int, int]] | None:
    """``1465440758_1466304758-1434682358_1434855158`` → [(start, end), …]."""
    text = params.get(name, "").strip()
    if not text:
        return None
    out = []
    for part in text.split("-"):
        start, sep, end = part.partition("_")
        try:
            pair = (_int(start, _DIGITS), _int(end, _DIGITS)) if sep else None
        except ValueError:
            pair = None
        if pair is None or pair[0] >= pair[1]:
            raise UptimeRobotError(
                "invalid_parameter",
                name,
                text,
                f"{name} must be start_end pairs of unix times (start before end) separated by -",
            )
        out.append(pair)
    return out


def date_pair(
    params: Mapping[str, str], prefix: str, max_span: float | None = None
) -> tuple[int, int] | None:
    """``<prefix>_start_date`` and ``<prefix>_end_date``, which must come together."""
    start_name, end_name = f"{prefix}_start_date", f"{prefix}_end_date"
    start, end = integer(params, start_name), integer(params, end_name)
    if start is None and end is None:
        return None
    if start is None or end is None:
        missing = start_name if start is None else end_name
        raise UptimeRobotError(
            "missing_parameter", missing, None, f"{start_name} and {end_name} must be used together"
        )
    if end <= start:
        raise UptimeRobotError(
            "invalid_parameter", end_name, str(end), f"{end_name} must be after {start_name}"
        )
    if max_span is not None and end - start > max_span:
        raise UptimeRobotError(
            "invalid_parameter",
            end_name,
            str(end),
            f"{end_name} - {start_name} must be at most {int(max_span // 86400)} days",
        )
    return start, end
