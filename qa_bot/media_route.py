"""Serving the recordings to the page: ``media/<transcript name>``, one route on the app.

The URL names a transcript, never a file: the route serves the media ``media.find_media`` finds for
a transcript the bot knows, and nothing else, so neither the corpus folder nor any other file is
reachable through it. (Gradio's ``allowed_paths`` would serve files by absolute path, printing the
server's folders into the page.) Behind a login it is guarded by gradio's own login check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, PlainTextResponse, Response

from .media import Media

PREFIX = "media/"
# A page route gradio guards with its login check; the media route borrows that guard.
GUARDED_PATH = "/config"


def media_url(name: str) -> str:
    """The URL of transcript ``name``'s media, relative to the page so that it holds under a
    reverse proxy's sub-path too."""
    return PREFIX + quote(name, safe="/")


def media_lifespan(locate: Callable[[str], Media | None]
                   ) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan for ``launch(app_kwargs={"lifespan": ...})`` that adds the media route as the
    server starts: only then has gradio built the login check the route must share.

    Args:
        locate: the media of a transcript name, or None (an unknown name, or no media); it may
            read the disk, so it runs in a worker thread.
    """
    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        add_media_route(app, locate)
        yield

    return lifespan


def add_media_route(app: FastAPI, locate: Callable[[str], Media | None]) -> None:
    """Add ``GET media/{transcript name}`` to gradio's ``app``, behind the login check its pages
    have (which lets everyone in when the app has no login).

    Raises:
        RuntimeError: the app has no guarded page to take the check from; rather than serve
            media to anyone, the app does not start.
    """
    guard = next((r.dependencies for r in app.routes
                  if isinstance(r, APIRoute) and r.path == GUARDED_PATH), None)
    if not guard:
        raise RuntimeError(f"no login check found on {GUARDED_PATH}: media would be served to anyone")

    async def serve(name: str) -> Response:
        media = await run_in_threadpool(locate, name)
        if media is None:
            return PlainTextResponse("No recording for that transcript", status_code=404)
        # FileResponse answers Range requests: a player seeks without loading the whole file.
        return FileResponse(media.path, media_type=media.mime, content_disposition_type="inline")

    app.add_api_route("/" + PREFIX + "{name:path}", serve, methods=["GET", "HEAD"],
                      dependencies=list(guard), include_in_schema=False)
