"""Typed calls to every endpoint of the Viggle API (docs/viggle-api.md); HTTP in transport.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, Final, TypeVar, Unpack
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from viggle_watch.apikey import ApiKey
from viggle_watch.errors import (
    NotSentError,
    OutcomeUnknownError,
    RejectedError,
    UnreadableAnswerError,
)
from viggle_watch.ids import SAFE_ID, check_reason
from viggle_watch.viggle.inputs import (
    InvalidOptionsError,
    Opened,
    RenderInput,
    RenderOptions,
    Upload,
    UploadInput,
    input_form,
)
from viggle_watch.viggle.results import is_loopback
from viggle_watch.viggle.schemas import (
    AssetCreated,
    Character,
    CharacterPage,
    Credits,
    RenderCreated,
    RenderStatus,
    Scene,
    ScenePage,
)
from viggle_watch.viggle.transport import (
    Downloaded,
    HttpOptions,
    Resume,
    Timeouts,
    Transport,
    first_bytes,
)

__all__ = ["Downloaded", "Timeouts", "ViggleClient", "is_loopback"]

UPLOAD_BYTES_PER_S: Final = 512 * 1024  # assume a slow uplink when sizing upload timeouts
PAGE_LIMIT: Final = 100


def _client_side(exc: InvalidOptionsError) -> RejectedError:
    return RejectedError(str(exc), code="client_validation")


class ViggleClient:
    """Every Viggle endpoint, typed. Paid POSTs are sent once; reads retry with backoff."""

    def __init__(self, base_url: str, key: ApiKey, **http: Unpack[HttpOptions]) -> None:
        self._http = Transport(base_url, key, **http)
        self._session = self._http.session

    def __repr__(self) -> str:
        return f"ViggleClient(base_url={self._http.base!r})"

    def answer_of(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """A free GET's answer as sent (unwrapped), before any model reads it: for `doctor`,
        which compares it with what the client expects. Asked once."""
        return self._http.get(path, params, attempts=1)

    def _upload_read_s(self, *uploads: Upload) -> float:
        size = sum(u.size if isinstance(u, Opened) else u.stat().st_size for u in uploads)
        return self._http.timeouts.read_s + size / UPLOAD_BYTES_PER_S

    # renders -----------------------------------------------------------------------------

    def render(
        self, render_input: RenderInput, options: RenderOptions = RenderOptions()
    ) -> RenderCreated:
        """Create a render job (on-demand upload, URLs, ids or multi-person). Paid; sent once."""
        try:
            data = {**input_form(render_input), **options.form(render_input)}
        except InvalidOptionsError as exc:
            raise _client_side(exc) from None
        with ExitStack() as stack:
            files: dict[str, tuple[str, IO[bytes]]] = {}
            read_s = None
            if isinstance(render_input, UploadInput):
                image, video = render_input.ref_image, render_input.driving_video
                files["ref_image"] = _file(stack, image)
                files["driving_video"] = _file(stack, video)
                read_s = self._upload_read_s(image, video)
            body = self._http.send_once(
                "POST", "/api/render", read_s=read_s, data=data, files=files or None
            )
        if not isinstance(body, dict) or not body.get("job_id"):
            raise OutcomeUnknownError("POST /api/render answered without a job id")
        created = _read(RenderCreated, body, "POST /api/render", paid=True)
        if not SAFE_ID.fullmatch(created.job_id):  # accepted, maybe charged: never used in a URL
            reason = check_reason(created.job_id)
            raise OutcomeUnknownError(
                f"POST /api/render answered with an unusable job id: {reason}"
            )
        return created

    def create_render(self, ref_image: Path, driving_video: Path, *, model: str) -> RenderCreated:
        """On-demand render from two local files (the skeleton's call)."""
        return self.render(UploadInput(ref_image, driving_video), RenderOptions(model=model))

    def get_render(self, job_id: str) -> RenderStatus:
        path = f"/api/render/{_segment(job_id)}"
        return _read(RenderStatus, self._http.get(path), f"GET {path}")

    def cancel_render(self, job_id: str) -> RenderStatus | None:
        """Cancel a queued or running render (refunds its credits); the new status if given."""
        body = self._http.send_once("DELETE", f"/api/render/{_segment(job_id)}")
        if isinstance(body, dict) and body.get("status"):
            return _read(RenderStatus, body, "DELETE /api/render")
        return None

    # characters --------------------------------------------------------------------------

    def create_character(self, name: str, image: Upload | str) -> AssetCreated:
        """Preprocess a character from a file or a URL (1 credit). Sent once."""
        return self._preprocess("/api/characters/preprocess", {"name": name}, "image", image)

    def get_character(self, character_id: str) -> Character:
        path = f"/api/characters/{_segment(character_id)}"
        return _read(Character, self._http.get(path), f"GET {path}")

    def list_characters(self, *, limit: int = PAGE_LIMIT, offset: int = 0) -> CharacterPage:
        body = self._http.get("/api/characters", params={"limit": limit, "offset": offset})
        return _read(CharacterPage, body, "GET /api/characters")

    def iter_characters(self) -> Iterator[Character]:
        offset = 0
        while True:
            page = self.list_characters(offset=offset)
            yield from page.characters
            offset += len(page.characters)
            if not page.characters or offset >= page.total:
                return

    def delete_character(self, character_id: str) -> None:
        self._http.send_once("DELETE", f"/api/characters/{_segment(character_id)}")

    # scenes ------------------------------------------------------------------------------

    def create_scene(
        self,
        name: str,
        video: Upload | str,
        *,
        model: str | None = None,
        background_mode: str | None = None,
    ) -> AssetCreated:
        """Preprocess a scene from a file or URL; it is bound to ``model`` for good. Sent once."""
        fields = {"name": name}
        if model is not None:
            fields["model"] = model
        if background_mode is not None:
            fields["background_mode"] = background_mode
        return self._preprocess("/api/scenes/preprocess", fields, "video", video)

    def import_template(self, template_id: str, name: str | None = None) -> AssetCreated:
        """Make a scene from a viggle.ai template; ``segments`` lists its people, if any."""
        payload: dict[str, str] = {"template_id": template_id}
        if name:
            payload["name"] = name
        body = self._http.send_once("POST", "/api/scenes/import", json=payload)
        call = "POST /api/scenes/import"
        return _usable(_read(AssetCreated, body, call, paid=True), call)

    def get_scene(self, scene_id: str) -> Scene:
        path = f"/api/scenes/{_segment(scene_id)}"
        return _read(Scene, self._http.get(path), f"GET {path}")

    def list_scenes(self, *, limit: int = PAGE_LIMIT, offset: int = 0) -> ScenePage:
        body = self._http.get("/api/scenes", params={"limit": limit, "offset": offset})
        return _read(ScenePage, body, "GET /api/scenes")

    def delete_scene(self, scene_id: str) -> None:
        self._http.send_once("DELETE", f"/api/scenes/{_segment(scene_id)}")

    # account and results -----------------------------------------------------------------

    def credits(self, *, retry: bool = True) -> Credits:
        """The account balance; ``retry=False`` asks once (a caller that can do without it)."""
        body = self._http.get("/api/credits", attempts=None if retry else 1)
        return _read(Credits, body, "GET /api/credits")

    def download(
        self, url: str, out: IO[bytes], *, max_bytes: int, **resume: Unpack[Resume]
    ) -> Downloaded:
        """Stream a result (``cdn_url`` or ``mask_cdn_url``) into ``out``, without the key.

        Resumes after ``offset`` bytes already in ``out`` when the server honours ``Range``.
        """
        return self._http.download(url, out, max_bytes=max_bytes, **resume)

    def _preprocess(
        self, path: str, fields: dict[str, str], file_field: str, source: Upload | str
    ) -> AssetCreated:
        if isinstance(source, str):
            body = self._http.send_once("POST", path, data={**fields, f"{file_field}_url": source})
        else:
            with ExitStack() as stack:
                body = self._http.send_once(
                    "POST",
                    path,
                    read_s=self._upload_read_s(source),
                    data=fields,
                    files={file_field: _file(stack, source)},
                )
        if not isinstance(body, dict):
            raise OutcomeUnknownError(f"POST {path}: the answer was not an object")
        return _usable(_read(AssetCreated, body, f"POST {path}", paid=True), f"POST {path}")


M = TypeVar("M", bound=BaseModel)


def _read(model: type[M], body: object, call: str, *, paid: bool = False) -> M:
    """An answer read by a model that takes what the step needs and ignores the rest. One it
    cannot read is that call's failure, never a crash of the tick: to a paid POST it may have
    been charged (``OutcomeUnknownError``: uncertain, never resent), to a free call it is
    ``UnreadableAnswerError`` (tried again) — with the answer's first bytes, redacted."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        missing = sorted({".".join(str(p) for p in e["loc"]) or "answer" for e in exc.errors()})
        text = f"{call}: an answer we cannot read ({', '.join(missing)}): {first_bytes(body)}"
        raise (OutcomeUnknownError if paid else UnreadableAnswerError)(text) from None


def _file(stack: ExitStack, upload: Upload) -> tuple[str, IO[bytes]]:
    """A multipart file part: from the open file (from its start), or opened by name now."""
    if isinstance(upload, Opened):
        upload.file.seek(0)
        return upload.name, upload.file
    return upload.name, stack.enter_context(upload.open("rb"))


def _usable(created: AssetCreated, call: str) -> AssetCreated:
    """An asset Viggle made (maybe charged for) whose id could not be used in a URL: outcome
    unknown, for a person to look at — never an id pasted into the next request."""
    if not SAFE_ID.fullmatch(created.id):
        raise OutcomeUnknownError(
            f"{call} answered with an unusable id: {check_reason(created.id)}"
        )
    return created


def _segment(value: str) -> str:
    """An id as one path segment of a URL; ``NotSentError`` for anything else (nothing leaves)."""
    if not SAFE_ID.fullmatch(value):
        raise NotSentError(f"not sent: {check_reason(value)}")
    return quote(value, safe="")
