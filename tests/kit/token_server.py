"""An OAuth2 token endpoint and an API that wants its bearer token, on one aiohttp server on
127.0.0.1 (docs/design.md §19.4)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.test_utils import TestServer


class TokenServer:
    """A token endpoint and an API that wants its bearer token, on one aiohttp server."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        self.issued = 0
        self.revoked: set[str] = set()
        self.answer: tuple[int, str, str] | None = None
        """(status, content type, body) to answer instead of a token."""
        self.expires_in: object = 300
        self.hang = False
        """Never answer a token request."""
        self.server: TestServer | None = None

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    async def token(self, request: web.Request) -> web.Response:
        self.forms.append(dict(await request.post()))  # type: ignore[arg-type]
        if self.hang:
            await asyncio.Event().wait()
        if self.answer is not None:
            status, content_type, body = self.answer
            return web.Response(status=status, content_type=content_type, text=body)
        self.issued += 1
        answer = {"access_token": f"tok-{self.issued}-abcdef", "token_type": "Bearer"}
        if self.expires_in is not None:
            answer["expires_in"] = self.expires_in
        return web.json_response(answer)

    async def api(self, request: web.Request) -> web.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not bearer.startswith("tok-") or bearer in self.revoked:
            return web.Response(status=401, text=f"bad token {bearer}")
        return web.json_response({"ok": True, "echo": bearer})


@asynccontextmanager
async def serve_tokens() -> AsyncIterator[TokenServer]:
    server = TokenServer()
    app = web.Application()
    app.router.add_post("/token", server.token)
    app.router.add_get("/api", server.api)
    server.server = TestServer(app, host="127.0.0.1")
    await server.server.start_server()
    try:
        yield server
    finally:
        await server.server.close()
