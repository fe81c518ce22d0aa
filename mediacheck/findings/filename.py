"""The file name's extension against what the content really is."""

from __future__ import annotations

import re

from mediacheck.findings.base import NOTICE, Finding, FindingContext

ISO_MEDIA = ("mp4", "m4v", "mov", "qt", "3gp", "3g2", "m4a")
# MIME type as sniffed from the content -> extensions that honestly name it.
EXTENSIONS = {
    "image/jpeg": ("jpg", "jpeg", "jpe", "jfif"),
    "image/png": ("png", "apng"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "image/heic": ("heic", "heif", "hif"),
    "image/heif": ("heif", "heic", "hif"),
    "image/avif": ("avif",),
    # Camera raw formats are TIFF inside.
    "image/tiff": ("tif", "tiff", "dng", "nef", "cr2", "arw", "orf", "rw2", "pef", "srw"),
    "image/bmp": ("bmp", "dib"),
    "image/x-icon": ("ico",),
    "image/vnd.adobe.photoshop": ("psd",),
    "video/mp4": ISO_MEDIA,
    "video/quicktime": ISO_MEDIA,
    "video/x-m4v": ISO_MEDIA,
    "video/3gpp": ISO_MEDIA,
    "video/x-matroska": ("mkv", "webm"),
    "video/webm": ("webm", "mkv"),
    "video/x-msvideo": ("avi",),
    "video/x-flv": ("flv",),
    "video/mpeg": ("mpg", "mpeg", "m2v"),
    "video/mp2t": ("ts", "mts", "m2ts"),
    "audio/mpeg": ("mp3",),
    "audio/mp4": ("m4a", "mp4", "aac"),
    "audio/x-m4a": ("m4a", "mp4"),
    "audio/ogg": ("ogg", "oga", "opus"),
    "audio/x-wav": ("wav",),
    "audio/x-flac": ("flac",),
    "audio/aac": ("aac",),
}
MAX_EXTENSION = 16
NOUNS = {"image": "picture", "video": "video", "audio": "audio file"}
# Types whose MIME subtype is not the name people know.
TYPE_NAMES = {
    "image/vnd.adobe.photoshop": "Photoshop",
    "image/x-icon": "icon",
    "video/quicktime": "QuickTime",
    "video/x-matroska": "Matroska",
    "video/x-msvideo": "AVI",
    "video/mp2t": "MPEG transport stream",
    "audio/mpeg": "MP3",
    "audio/x-m4a": "M4A",
}


def check_extension(ctx: FindingContext) -> list[Finding]:
    expected = EXTENSIONS.get(ctx.mime)
    extension = _extension(ctx.original_name)
    if expected is None or extension is None or extension in expected:
        return []
    message = (
        f"The file's name ends in .{extension} but it is {describe_type(ctx.mime)}. Files "
        "are often renamed when forwarded or downloaded, so this is common and harmless; it "
        "can also mean someone converted the file or tried to disguise what it is."
    )
    evidence = {"extension": extension, "mime": ctx.mime, "expected": list(expected)}
    return [Finding("extension-mismatch", NOTICE, message, evidence)]


def describe_type(mime: str) -> str:
    """A content type in words: "a PNG picture (image/png)"."""
    kind, _, subtype = mime.partition("/")
    name = TYPE_NAMES.get(mime) or subtype.removeprefix("x-").upper()
    noun = NOUNS.get(kind, "file")
    # Said letter by letter, "MP4" and "FLV" start with a vowel sound.
    article = "an" if name[:1] in "AEIOU" or re.match(r"M[P0-9]|FLV", name) else "a"
    return f"{article} {name} {noun} ({mime})"


def _extension(name: str) -> str | None:
    # The name is user input: it is only compared, never used as a path.
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if "." not in base.strip("."):
        return None
    extension = base.rsplit(".", 1)[1].strip().lower()
    if not extension or len(extension) > MAX_EXTENSION:
        return None
    return extension
