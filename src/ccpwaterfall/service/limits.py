"""A cap on request bodies: a body over the limit is refused with 413 before the application
reads any of it, so nothing of it is parsed or stored."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 64 * 1024  # forms and bids are a few hundred bytes


class BodyLimit:
    """ASGI middleware: 413 for a declared length over ``limit``, and for a streamed body once
    it passes ``limit``; a body within it is handed on whole."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _refuse(send, 400, "bad Content-Length")
                    return
                if declared > self.limit:
                    await _refuse(send, 413, f"request body over {self.limit} bytes")
                    return
        # The body is read here, up to the limit, before the application sees any of it:
        # a streamed body that passes the limit is refused before anything parses it.
        messages: list[Message] = []
        received = 0
        more = scope["method"] not in {"GET", "HEAD", "OPTIONS", "DELETE"}
        while more:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.limit:
                await _refuse(send, 413, f"request body over {self.limit} bytes")
                return
            more = bool(message.get("more_body", False))

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
