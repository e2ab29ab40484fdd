"""Supporting documents as they arrive over HTTP (multipart files or base64
in JSON), measured against the configured limits before anything is stored:
an oversize document is refused with 413, the rest by validation (422)."""

import mimetypes
from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData, UploadFile

from api.problems import ProblemError, field_problems, invalid_input
from complaints.submission import Document, DocumentLimits

_documents = TypeAdapter(list[Document])


class DocumentTooLarge(ProblemError):
    def __init__(self, filename: str, limits: DocumentLimits) -> None:
        super().__init__(
            413,
            f"{filename}: the document is larger than the {limits.max_bytes:,} bytes accepted "
            "per document; send a smaller or compressed file",
        )
        self.filename = filename


def check_size(filename: str, content: bytes, limits: DocumentLimits) -> None:
    if len(content) > limits.max_bytes:
        raise DocumentTooLarge(filename, limits)


async def read_files(form: FormData, field: str, limits: DocumentLimits) -> list[dict[str, Any]]:
    """The files of the form's `field`, as document data; an empty file input
    (a browser sends one when no file was chosen) is not a document."""
    found = []
    for upload in form.getlist(field):
        if not isinstance(upload, UploadFile):
            continue
        content = await upload.read(limits.max_bytes + 1)
        filename = upload.filename or "document"
        if not upload.filename and not content:
            continue
        check_size(filename, content, limits)
        found.append({"filename": filename, "content_type": _content_type(upload), "content": content})
    return found


def _content_type(upload: UploadFile) -> str:
    """The declared type; browsers declare unknown files as octet-stream, so the
    name then decides (and an unknown name is refused as a disallowed type)."""
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    return mimetypes.guess_type(upload.filename or "")[0] or "application/octet-stream"


def validate_documents(data: list[dict[str, Any]], limits: DocumentLimits, field: str = "documents") -> list[Document]:
    """Documents sent apart from a complaint (a customer's reply)."""
    if len(data) > limits.max_count:
        raise invalid_input(
            field_problems(
                [{"loc": (field,), "msg": f"{len(data)} documents; at most {limits.max_count} are accepted"}]
            )
        )
    try:
        return _documents.validate_python(data, context={"limits": limits})
    except ValidationError as error:
        errors = [{**e, "loc": (field, *e["loc"])} for e in error.errors()]
        raise invalid_input(field_problems(errors)) from error
