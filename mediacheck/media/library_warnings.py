"""What the decoding libraries say about one file goes to that file's errors, not to stderr.

Pillow raises Python warnings on hostile headers ("Corrupt EXIF data",
"Truncated File Read", DecompressionBombWarning, ...); :func:`library_messages`
collects them while one file is described. libtiff, which Pillow calls for
compressed TIFFs, prints its messages from C straight onto stderr: its
handlers are switched off once, since Pillow reports the same failures as
exceptions. PyAV hands FFmpeg's messages to the ``libav`` logger when a log
level is set; without a handler Python would print them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from mediacheck.media.metadata.blocks import clean

MAX_LINES = 5  # a broken file can warn thousands of times; the first few say what is wrong
MAX_LENGTH = 200

logging.getLogger("libav").addHandler(logging.NullHandler())


@contextmanager
def library_messages(errors: list[str]) -> Iterator[None]:
    """Append the Python warnings raised inside the block to ``errors``, one line each.

    Also makes sure libtiff stays quiet in this process.
    """
    silence_libtiff()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            errors.extend(warning_lines([w for w in caught if not _about_code(w)]))
    for w in filter(_about_code, caught):
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _about_code(caught: warnings.WarningMessage) -> bool:
    """Deprecations speak of our code, not of the file, and resource warnings of the process
    (a database connection the garbage collector found while the file was described): they
    stay ordinary warnings."""
    return issubclass(
        caught.category, DeprecationWarning | PendingDeprecationWarning | ResourceWarning
    )


def warning_lines(caught: list[warnings.WarningMessage]) -> list[str]:
    lines = list(dict.fromkeys(_line(w) for w in caught))
    if len(lines) > MAX_LINES:
        lines[MAX_LINES:] = [f"{len(lines) - MAX_LINES} more library warnings left out"]
    return lines


def _line(caught: warnings.WarningMessage) -> str:
    library = _library(caught.filename)
    message = " ".join(clean(str(caught.message)).split())[:MAX_LENGTH]
    return f"{library} {caught.category.__name__}: {message}"


def _library(filename: str) -> str:
    """The top package a warning came from: PIL, pillow_heif, ..."""
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    return Path(filename).stem


@cache
def silence_libtiff() -> bool:
    """Switch off libtiff's stderr handlers in the copy Pillow uses; False if none is found."""
    import PIL

    found = False
    for path in _libtiff_candidates(Path(PIL.__file__).parent):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for setter in (library.TIFFSetErrorHandler, library.TIFFSetWarningHandler):
            setter.argtypes, setter.restype = [ctypes.c_void_p], ctypes.c_void_p
            setter(None)
        found = True
    return found


def _libtiff_candidates(pil_dir: Path) -> list[str]:
    # Wheels bundle their own libtiff (pillow.libs on Linux, .dylibs on macOS); a distribution's
    # Pillow links the system one, which loading by name returns.
    bundled = [*pil_dir.parent.glob("pillow.libs/libtiff*"), *pil_dir.glob(".dylibs/libtiff*")]
    if bundled:
        return [str(p) for p in bundled]
    system = ctypes.util.find_library("tiff")
    return [system] if system else []
