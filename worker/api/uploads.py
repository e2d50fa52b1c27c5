"""A multipart upload streamed straight into the data dir, hashed on the way.

Nothing half-written stays behind: the file grows under a temporary name in
`uploads/.incoming/` and is removed on any failure (bad form, size limit, client gone);
only `keep` moves a complete file to its place, `uploads/<sha256 prefix>/<name>`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import anyio
from fastapi import HTTPException
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FILE_FIELD = "file"
MAX_FIELDS = 32
MAX_FIELD_BYTES = 64 * 1024
FLUSH_BYTES = 1024 * 1024  # written to disk in a worker thread once this much has arrived


def safe_name(name: str) -> str:
    """The client's file name reduced to a plain base name: no directories, no dot-files,
    only [A-Za-z0-9._-] (anything else becomes '_'), at most 120 characters."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name))[-1]
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")
    if len(clean) > 120:
        stem, dot, ext = clean.rpartition(".")
        clean = (stem[: 119 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else clean[:120]
    return clean or "upload"


@dataclass
class Received:
    temp: Path  # the complete upload, still under its temporary name
    filename: str  # safe_name of the client's name
    size: int
    sha256: str
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)

    def keep(self, uploads_dir: Path) -> tuple[Path, bool]:
        """Move to `uploads/<sha256[:16]>/<name>`; (path, True if this call created it).

        The same content uploaded again under the same name keeps the first file.
        """
        final = uploads_dir / self.sha256[:16] / self.filename
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.is_file() and final.stat().st_size == self.size:
            self.discard()
            return final, False
        self.temp.replace(final)  # atomic: the final name never shows a partial file
        return final, True


class _Form:
    """python-multipart callbacks: text fields into memory, the file part to `sink`."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.pending: list[bytes] = []  # file bytes not yet written
        self.pending_bytes = 0
        self.size = 0  # of the file part
        self.ended = False  # the closing boundary came
        self._name = b""
        self._value = b""
        self._disposition = b""
        self._part: str | None = None  # field name of the current part
        self._is_file = False
        self._text = bytearray()

    def on_part_begin(self) -> None:
        self._disposition, self._part, self._is_file = b"", None, False
        self._text.clear()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        if self._name.strip().lower() == b"content-disposition":
            self._disposition = self._value
        self._name, self._value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise _bad(400, "a form part has no name in its Content-Disposition")
        self._part = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            if self._part != FILE_FIELD or self.filename is not None:
                raise _bad(422, f"send one file, in the form field {FILE_FIELD!r}")
            self.filename = options[b"filename"].decode("utf-8", "replace")
            self._is_file = True
        elif len(self.fields) >= MAX_FIELDS:
            raise _bad(422, f"more than {MAX_FIELDS} form fields")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.pending.append(data[start:end])
            self.pending_bytes += end - start
            self.size += end - start
            return
        self._text += data[start:end]
        if len(self._text) > MAX_FIELD_BYTES:
            raise _bad(422, f"form field {self._part!r} is longer than {MAX_FIELD_BYTES} bytes")

    def on_end(self) -> None:
        self.ended = True

    def on_part_end(self) -> None:
        if not self._is_file and self._part is not None:
            try:
                self.fields[self._part] = self._text.decode("utf-8")
            except UnicodeDecodeError:
                raise _bad(422, f"form field {self._part!r} is not UTF-8 text") from None


def _bad(status: int, detail: str) -> HTTPException:
    return HTTPException(status, detail)


async def receive(
    content_type: str, stream: AsyncIterator[bytes], incoming: Path, max_bytes: int
) -> Received:
    """Parse a multipart/form-data body, writing its file part to a temporary file."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise _bad(400, "multipart/form-data without a boundary")
    form = _Form()
    callbacks: MultipartCallbacks = {
        "on_part_begin": form.on_part_begin,
        "on_part_data": form.on_part_data,
        "on_part_end": form.on_part_end,
        "on_header_field": form.on_header_field,
        "on_header_value": form.on_header_value,
        "on_header_end": form.on_header_end,
        "on_headers_finished": form.on_headers_finished,
        "on_end": form.on_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
    except FormParserError as exc:
        raise _bad(400, f"malformed multipart body: {exc}") from None
    incoming.mkdir(parents=True, exist_ok=True)
    temp = incoming / f"{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    sink: IO[bytes] = await anyio.to_thread.run_sync(temp.open, "wb")
    try:
        try:
            async for chunk in stream:
                parser.write(chunk)
                if form.size > max_bytes:
                    raise _bad(413, f"the upload is larger than the limit of {max_bytes} bytes")
                if form.pending_bytes >= FLUSH_BYTES:
                    await anyio.to_thread.run_sync(_flush, sink, digest, form)
            parser.finalize()  # (python-multipart 0.0.x does not check the end itself)
            if not form.ended:
                raise _bad(400, "incomplete multipart body: no closing boundary")
        except FormParserError as exc:
            raise _bad(400, f"malformed multipart body: {exc}") from None
        await anyio.to_thread.run_sync(_flush, sink, digest, form)
        await anyio.to_thread.run_sync(sink.close)
        if form.filename is None:
            raise _bad(422, f"the form has no file part named {FILE_FIELD!r}")
        if form.size == 0:
            raise _bad(422, f"{safe_name(form.filename)}: the uploaded file is empty")
    except BaseException:
        # client gone, limit, bad form or cancellation: no partial file stays behind
        with contextlib.suppress(OSError):
            sink.close()
        temp.unlink(missing_ok=True)
        raise
    return Received(temp, safe_name(form.filename), form.size, digest.hexdigest(), form.fields)


def _flush(sink: IO[bytes], digest: hashlib._Hash, form: _Form) -> None:
    for block in form.pending:
        sink.write(block)
        digest.update(block)
    form.pending.clear()
    form.pending_bytes = 0
