"""A job's output files for the dashboard's ``<video>`` and poster (issue 18): only files the
job's record names, inside its rule's output folder, never through a link, read from the
descriptor that was checked (``folders.open_output``)."""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterator
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse

from viggle_watch.outputs.naming import poster_paths
from viggle_watch.web.context import WebContext, job_detail
from viggle_watch.web.folders import open_output


def install(app: FastAPI, ctx: WebContext) -> None:
    @app.get("/files/{job_id}/{what}", include_in_schema=False)
    def media(job_id: int, what: str) -> StreamingResponse:
        """A job's own output (video, poster, thumbnail): only files its record names, inside
        its rule's output folder, never through a link (``folders.open_output``)."""
        job = job_detail(ctx, job_id)
        rule = next((r for r in ctx.current().rules if r.name == job["rule"]), None)
        if not job["output"] or rule is None:
            raise HTTPException(404, f"job {job_id} has no output yet")
        video = Path(job["output"])
        poster, thumb = poster_paths(video)
        found = {"video": video, "poster": poster, "thumb": thumb}.get(what)
        if found is None:
            raise HTTPException(404, f"there is no {what!r} of a job")
        try:
            fd = open_output(found, rule.output)
        except OSError:
            raise HTTPException(
                404, f"job {job_id} has no {what} (or not as a plain file)"
            ) from None
        return StreamingResponse(
            _chunks(fd),
            media_type=mimetypes.guess_type(found.name)[0] or "application/octet-stream",
            headers={"Content-Length": str(os.fstat(fd).st_size), "Cache-Control": "no-store"},
        )


def _chunks(fd: int, size: int = 1 << 16) -> Iterator[bytes]:
    """The file behind ``fd``, read as it is sent (on a worker thread), then closed."""
    try:
        while chunk := os.read(fd, size):
            yield chunk
    finally:
        os.close(fd)
