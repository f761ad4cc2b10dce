"""Request parameters of the UptimeRobot v2 API: form or JSON bodies, dash lists, flags, and the
API's error objects (``reference/interfaces.md`` §1.1, §1.4)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from aiohttp import web


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


async def read_params(request: web.Request, *, query: bool) -> dict[str, str]:
    """The request's parameters as text; ``query`` also accepts them in the URL (getMonitors)."""
    params = dict(request.query) if query else {}
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise UptimeRobotError(
                "invalid_parameter", message="the body is not valid JSON"
            ) from None
        if not isinstance(data, dict):
            raise UptimeRobotError("invalid_parameter", message="the body must be a JSON object")
        params.update({str(k): _text(v) for k, v in data.items() if v is not None})
    else:
        form = await request.post()
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
    params: Mapping[str, str], name: str, default: int | None = None, low: int = 0
) -> int | None:
    text = params.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise UptimeRobotError(
            "invalid_parameter", name, text, f"{name} must be an integer"
        ) from None
    if value < low:
        raise UptimeRobotError("invalid_parameter", name, text, f"{name} must be at least {low}")
    return value


def dash_list(
    params: Mapping[str, str], name: str, allowed: Collection[int] | None = None
) -> list[int] | None:
    """``15830-32696`` → [15830, 32696]; None when absent or empty."""
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        values = [int(part) for part in text.split("-")]
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
        if not (sep and start.isdigit() and end.isdigit()) or int(start) >= int(end):
            raise UptimeRobotError(
                "invalid_parameter",
                name,
                text,
                f"{name} must be start_end pairs of unix times (start before end) separated by -",
            )
        out.append((int(start), int(end)))
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
