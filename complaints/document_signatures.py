"""Whether a document is what it says it is: its first bytes (its signature,
read with `filetype`) and its name's extension must both fit the declared
content type. A declared type is the sender's word only: `facture.pdf.html`
declared application/pdf, or an SVG with a script declared image/png, would
otherwise be stored and served as what they are not.

Pure: every channel's documents go through `Document` validation, which
calls `signature_problem` (API, web form, customer replies, inbound mail)."""

import mimetypes
from pathlib import PurePosixPath

import filetype

# The extensions each known type may carry, and the types filetype may detect
# for it (an animated PNG is a PNG).
EXTENSIONS: dict[str, set[str]] = {
    "application/pdf": {".pdf"},
    "image/jpeg": {".jpg", ".jpeg", ".jpe", ".jfif"},
    "image/png": {".png"},
    "image/heic": {".heic", ".heif"},
    "text/plain": {".txt", ".text", ".log", ".csv"},
    "message/rfc822": {".eml"},
    "application/msword": {".doc"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
    "application/vnd.oasis.opendocument.text": {".odt"},
}
DETECTED_AS: dict[str, set[str]] = {
    "image/png": {"image/png", "image/apng"},
    "image/heic": {"image/heic", "image/heif"},
}
# Types with no signature: their content must be text, and not markup a browser would render.
TEXT_TYPES = {"text/plain", "message/rfc822", "text/csv"}
_MARKUP = (b"<", b"\xef\xbb\xbf<")


def signature_problem(filename: str, content_type: str, content: bytes) -> str | None:
    """Why the document is not a `content_type` file named `filename`, or None."""
    extension = PurePosixPath(filename.lower()).suffix
    allowed = EXTENSIONS.get(content_type) or set(mimetypes.guess_all_extensions(content_type))
    if extension not in allowed:
        expected = ", ".join(sorted(allowed)) or "none known"
        return f"the name {filename!r} does not fit the type {content_type!r} (expected extension: {expected})"
    detected = filetype.guess_mime(content)
    if content_type in TEXT_TYPES:
        if detected is not None or b"\x00" in content or content.lstrip().startswith(_MARKUP):
            found = detected or "markup or binary"
            return f"the content is not plain text, as the type {content_type!r} says (it reads as {found})"
        return None
    if detected not in DETECTED_AS.get(content_type, {content_type}):
        return f"the content is not a {content_type!r} file (it reads as {detected or 'an unknown format'})"
    return None
