"""Reverse-search links: where to look for earlier copies of a case's media.

With a public source URL, each engine's search-by-URL form is ready to open.
Without one, the desk uploads the stored original (or a video's keyframes) by
hand on each engine's upload page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from mediacheck.store.database import Store


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
class Search:
    engine: str
    name: str
    url: str | None  # None: no public source, upload the files by hand
    upload_page: str
    files: list[str]


@dataclass(frozen=True)
class MediaSearches:
    media_id: str
    kind: str
    original_name: str
    source_url: str | None
    searches: list[Search] = field(default_factory=list)


def search_url(engine: Engine, source_url: str) -> str:
    return engine.by_url.format(url=quote(source_url, safe=""))


def case_links(store: Store, case_id: str) -> list[MediaSearches]:
    """For every media item of a case, one search per engine."""
    case = store.get_case(case_id)
    result = []
    for link, media in store.case_media(case_id):
        files = _files_to_upload(store, media.id, media.blob_path)
        searches = [
            Search(
                engine=engine.key,
                name=engine.name,
                url=search_url(engine, case.source_url) if case.source_url else None,
                upload_page=engine.upload_page,
                files=files,
            )
            for engine in ENGINES
        ]
        result.append(
            MediaSearches(media.id, media.kind, link.original_name, case.source_url, searches)
        )
    return result


def _files_to_upload(store: Store, media_id: str, blob_path: str) -> list[str]:
    """A video's keyframes when it has them, else the stored original: absolute paths."""
    relative = [frame.path for frame in store.keyframes(media_id)] or [blob_path]
    return [str(store.blobs.cached(path).absolute()) for path in relative]
