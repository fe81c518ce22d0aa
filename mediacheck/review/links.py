"""Reverse-search links: where to look for earlier copies of a case's media and its post.

An image search needs the picture: its bytes, uploaded by hand, or the address
of the image file itself. A post's address (a Telegram or X page) is neither,
so it is never handed to an image engine: it gets its own searches, for pages
that quote it and for archived copies of it. Each media item gets the files to
upload (the stored original and a video's keyframes) and, when its direct image
URL is known (a note on the item or the case's source URL pointing at an image
file), each engine's search-by-URL link. Nothing is fetched: whether a URL is
an image is read from its address.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import parse_qs, quote, urlsplit

from mediacheck.store.database import Store
from mediacheck.store.models import Media, Note


@dataclass(frozen=True)
class Engine:
    key: str
    name: str
    upload_page: str
    by_url: str  # with {url} where the URL-encoded address goes


ENGINES = (
    Engine(
        "google-lens",
        "Google Lens",
        "https://lens.google.com/",
        "https://lens.google.com/uploadbyurl?url={url}",
    ),
    Engine(
        "bing",
        "Bing Visual Search",
        "https://www.bing.com/visualsearch",
        "https://www.bing.com/images/search?q=imgurl:{url}&view=detailv2&iss=sbi",
    ),
    Engine(
        "yandex",
        "Yandex Images",
        "https://yandex.com/images/",
        "https://yandex.com/images/search?rpt=imageview&url={url}",
    ),
    Engine("tineye", "TinEye", "https://tineye.com/", "https://tineye.com/search?url={url}"),
)


@dataclass(frozen=True)
class PageEngine:
    """A search for a web page by its address: who quotes it, who archived it."""

    key: str
    name: str
    template: str  # {quoted}: the address in quotes, URL-encoded; {url}: the address itself


PAGE_ENGINES = (
    PageEngine("google", "Google", "https://www.google.com/search?q={quoted}"),
    PageEngine("bing", "Bing", "https://www.bing.com/search?q={quoted}"),
    PageEngine("wayback", "Wayback Machine", "https://web.archive.org/web/*/{url}"),
    PageEngine("archive-today", "archive.today", "https://archive.ph/{url}"),
)
IMAGE_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".jpe",
    ".png",
    ".gif",
    ".webp",
    ".bmp",
    ".tif",
    ".tiff",
    ".avif",
    ".heic",
    ".heif",
}
# What an address may keep unencoded when it is put inside another address's path.
_PATH_SAFE = ":/?&=%@+,;~-._!$*()'"
_IMAGE_FORMAT = re.compile(r"(jpe?g|png|gif|webp|bmp|tiff?|avif|hei[cf])", re.IGNORECASE)


@dataclass(frozen=True)
class Search:
    engine: str
    name: str
    url: str | None  # None: no direct image URL is known, upload the files by hand
    upload_page: str
    files: list[str]


@dataclass(frozen=True)
class PageSearch:
    engine: str
    name: str
    url: str


@dataclass(frozen=True)
class MediaSearches:
    media_id: str
    kind: str
    original_name: str
    source_url: str | None  # the case's post: never searched as an image
    image_url: str | None = None  # the item's direct image URL, when one is known
    image_url_from: str | None = None  # where it was found: "note 3" or "source_url"
    files: list[str] = field(default_factory=list)  # the original, then any keyframes
    searches: list[Search] = field(default_factory=list)


@dataclass(frozen=True)
class CaseLinks:
    case_id: str
    source_url: str | None
    page_searches: list[PageSearch]  # for the post's address; empty without one
    media: list[MediaSearches]


def search_url(engine: Engine, image_url: str) -> str:
    return engine.by_url.format(url=quote(image_url, safe=""))


def page_search_url(engine: PageEngine, page_url: str) -> str:
    return engine.template.format(
        quoted=quote(f'"{page_url}"', safe=""), url=quote(page_url, safe=_PATH_SAFE)
    )


def is_image_url(url: str | None) -> bool:
    """Whether ``url`` names an image file by its address: its name or a format= parameter."""
    if not url:
        return False
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return False
    if PurePosixPath(parts.path).suffix.lower() in IMAGE_SUFFIXES:
        return True
    formats = parse_qs(parts.query).get("format", [])
    return any(_IMAGE_FORMAT.fullmatch(value) for value in formats)


def case_links(store: Store, case_id: str) -> CaseLinks:
    """The searches for the case's post and, for every media item, one per engine."""
    case = store.get_case(case_id)
    members = store.case_media(case_id)
    notes = store.notes(case_id)
    pictures = [media for _, media in members if media.kind == "image"]
    media = []
    for link, item in members:
        image_url, found_in = _image_url(item, notes, case.source_url, pictures)
        files = _files_to_upload(store, item)
        searches = [
            Search(
                engine=engine.key,
                name=engine.name,
                url=search_url(engine, image_url) if image_url else None,
                upload_page=engine.upload_page,
                files=files,
            )
            for engine in ENGINES
        ]
        media.append(
            MediaSearches(
                item.id,
                item.kind,
                link.original_name,
                case.source_url,
                image_url,
                found_in,
                files,
                searches,
            )
        )
    pages = (
        [PageSearch(e.key, e.name, page_search_url(e, case.source_url)) for e in PAGE_ENGINES]
        if case.source_url
        else []
    )
    return CaseLinks(case.id, case.source_url, pages, media)


def _image_url(
    media: Media, notes: Sequence[Note], source_url: str | None, pictures: Sequence[Media]
) -> tuple[str | None, str | None]:
    """The newest image address a note on this item gives, else the case's source URL when
    it is an image's address and this is the case's only picture."""
    if media.kind != "image":
        return None, None
    for note in reversed(notes):
        if note.media_id == media.id and is_image_url(note.url):
            return note.url, f"note {note.id}"
    if is_image_url(source_url) and [p.id for p in pictures] == [media.id]:
        return source_url, "source_url"
    return None, None


def _files_to_upload(store: Store, media: Media) -> list[str]:
    """The stored original, then a video's keyframes: absolute paths."""
    relative = [media.blob_path, *(frame.path for frame in store.keyframes(media.id))]
    return [str(store.blobs.cached(path).absolute()) for path in relative]
