"""Uploads for import routes: the file as the raw body or as the `file` part of a form."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from civicshield.core.errors import Invalid

__all__ = ["BINARY_SCHEMA", "file_body"]

# OpenAPI schema of a binary file body or form part.
BINARY_SCHEMA = {"type": "string", "format": "binary"}


async def file_body(request: Request) -> tuple[bytes, str | None]:
    """The file: the raw body (any content type), or the `file` part of a multipart form."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        # The context manager closes the spooled upload files when done.
        async with request.form() as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise Invalid("send the file as the form field 'file'")
            return await upload.read(), upload.filename
    return await request.body(), None
