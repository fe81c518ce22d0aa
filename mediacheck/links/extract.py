"""What a page holds: its media and what is said of the post, by yt-dlp or by the page itself.

yt-dlp is used as a library, its every request answered by the link's ``Fetcher``
(so the address rules, the caps and the WARC cover it too, and it never sees the
user's cookies file). Where it finds nothing, the page's own media are taken:
``og:video``, ``og:image``, ``<video>`` and ``<img>`` of the main content, capped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from mediacheck.errors import LinkError
from mediacheck.links.fetch import Fetched, Fetcher, check_url

MAX_MEDIA = 10  # media taken from one page or post
MAX_THUMBNAILS = 10
TEXT_CHARS = 10_000  # of a title or a caption kept on the source


@dataclass(frozen=True)
class MediaLink:
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Post:
    """What the extractor (or the page) says of the post, and the media it points to."""

    extractor: str | None = None
    uploader: str | None = None
    uploader_id: str | None = None
    title: str | None = None
    description: str | None = None
    posted_at: str | None = None
    view_count: int | None = None
    like_count: int | None = None
    comment_count: int | None = None
    webpage_url: str | None = None
    thumbnails: list[str] = field(default_factory=list)
    media: list[MediaLink] = field(default_factory=list)
    platform: str | None = None
    info: dict[str, Any] = field(default_factory=dict)  # the extractor's own words, for the WARC


# yt-dlp extractor keys that name a platform as desks write it (case fields, --platform).
PLATFORMS = {"twitter": "x", "telegram": "telegram", "youtube": "youtube", "tiktok": "tiktok"}
NOT_PLATFORMS = ("generic", "page", "direct", "html5mediaembed")


def platform_of(extractor: str | None) -> str | None:
    if not extractor:
        return None
    key = extractor.lower()
    if key in NOT_PLATFORMS:
        return None
    return next((name for k, name in PLATFORMS.items() if key.startswith(k)), key)


def with_ytdlp(url: str, fetcher: Fetcher, page: Fetched) -> Post | None:
    """The post as yt-dlp extracts it, or None when no extractor finds media in it."""
    from yt_dlp.utils import DownloadError

    downloader = _guarded_ytdlp(fetcher, page)
    try:
        with downloader as ydl:
            info = ydl.extract_info(url, download=False)
            info = ydl.sanitize_info(info)
    except (DownloadError, ValueError, KeyError, TypeError):  # or an extractor's own bug
        if downloader.refusal:  # a request the rules refused: that is the link's answer
            raise LinkError(downloader.refusal) from None
        return None  # no extractor found media: the page's own are taken
    if not isinstance(info, dict):
        return None
    post = _post_of(info)
    return post if post.media else None


def _guarded_ytdlp(fetcher: Fetcher, page: Fetched):
    from yt_dlp import YoutubeDL
    from yt_dlp.networking.common import Response
    from yt_dlp.networking.exceptions import HTTPError, RequestError

    class Guarded(YoutubeDL):
        """yt-dlp whose every request goes through the link's fetcher."""

        refusal: str | None = None

        def urlopen(self, req):
            url = req if isinstance(req, str) else req.url
            method = "GET" if isinstance(req, str) else req.method
            headers = {} if isinstance(req, str) else dict(req.headers)
            if method not in ("GET", "HEAD"):
                raise RequestError(f"mediacheck fetches with GET only, not {method}")
            try:
                fetched = page if url == page.url else fetcher.get(url, headers)
            except LinkError as exc:
                self.refusal = f"{url}: {exc}"
                raise RequestError(str(exc)) from exc
            body = io.BytesIO(fetched.body.read_bytes())
            response = Response(
                body, fetched.final_url, dict(fetched.headers), fetched.status, fetched.reason
            )
            if fetched.status >= 400:
                raise HTTPError(response)
            return response

    params = {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "skip_download": True,
        "format": "best",
        "playlistend": MAX_MEDIA,
        "cachedir": False,
        "logger": _Quiet(),
        "check_formats": False,
    }
    return Guarded(params)


class _Quiet:
    """yt-dlp's messages: its answer is what it returns, never what it prints."""

    def debug(self, message: str) -> None:
        return None

    info = warning = error = debug


def _post_of(info: dict[str, Any]) -> Post:
    entries = [e for e in info.get("entries") or [] if isinstance(e, dict)] or [info]
    posted = info.get("timestamp") or next((e.get("timestamp") for e in entries), None)
    upload_date = info.get("upload_date") or next((e.get("upload_date") for e in entries), None)
    extractor = info.get("extractor_key") or info.get("extractor")
    return Post(
        extractor=extractor,
        uploader=_text(info.get("uploader") or info.get("channel")),
        uploader_id=_text(info.get("uploader_id") or info.get("channel_id")),
        title=_text(info.get("title")),
        description=_text(info.get("description")),
        posted_at=_posted(posted, upload_date),
        view_count=_count(info.get("view_count")),
        like_count=_count(info.get("like_count")),
        comment_count=_count(info.get("comment_count")),
        webpage_url=_text(info.get("webpage_url")),
        thumbnails=_thumbnails(info),
        media=[m for m in map(_download_of, entries[:MAX_MEDIA]) if m is not None],
        platform=platform_of(extractor),
        info={k: v for k, v in info.items() if k not in ("formats", "entries", "http_headers")},
    )


def _download_of(entry: dict[str, Any]) -> MediaLink | None:
    """The one file yt-dlp chose for an entry, if plain HTTP can fetch it."""
    url, protocol = entry.get("url"), str(entry.get("protocol") or "")
    if not isinstance(url, str) or protocol not in ("http", "https"):
        return None
    headers = entry.get("http_headers") or {}
    return MediaLink(url, {str(k): str(v) for k, v in headers.items()})


def _posted(timestamp: Any, upload_date: Any) -> str | None:
    if isinstance(timestamp, int | float):
        return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
    if isinstance(upload_date, str) and len(upload_date) == 8 and upload_date.isdigit():
        return f"{upload_date[:4]}-{upload_date[4:6]}-{upload_date[6:]}"
    return None


def _thumbnails(info: dict[str, Any]) -> list[str]:
    found = [t.get("url") for t in info.get("thumbnails") or [] if isinstance(t, dict)]
    return [u for u in found if isinstance(u, str)][:MAX_THUMBNAILS]


def _text(value: Any) -> str | None:
    return str(value)[:TEXT_CHARS] if value not in (None, "") else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def from_page(html: str, base_url: str) -> Post:
    """The page's own media and what its meta tags say of it."""
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    media: list[MediaLink] = []
    for found in [*parser.og_videos, *parser.videos, *parser.og_images, *parser.images]:
        url = urljoin(base_url, found.strip())
        try:
            check_url(url)
        except LinkError:
            continue  # data:, javascript: and the like are no media to fetch
        if url not in [m.url for m in media]:
            media.append(MediaLink(url))
    meta = parser.meta
    return Post(
        extractor="page",
        uploader=_text(meta.get("article:author") or meta.get("og:site_name")),
        title=_text(meta.get("og:title") or parser.title.strip()),
        description=_text(meta.get("og:description") or meta.get("description")),
        posted_at=_text(meta.get("article:published_time")),
        webpage_url=_text(meta.get("og:url")),
        media=media[:MAX_MEDIA],
        info={"meta": meta, "title": parser.title.strip()},
    )


class _PageParser(HTMLParser):
    """Meta tags, the title, and the media of the main content (``<main>``/``<article>``)."""

    OG_VIDEO = ("og:video", "og:video:url", "og:video:secure_url")
    OG_IMAGE = ("og:image", "og:image:url", "og:image:secure_url")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.og_videos: list[str] = []
        self.og_images: list[str] = []
        self.videos: list[str] = []
        self.images: list[str] = []
        self.main_images: list[str] = []
        self.title = ""
        self._in_title = False
        self._in_video = 0
        self._in_main = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "meta":
            self._meta(attr)
        elif tag == "title":
            self._in_title = True
        elif tag in ("main", "article"):
            self._in_main += 1
        elif tag == "video":
            self._in_video += 1
            if attr.get("src"):
                self.videos.append(attr["src"])
        elif tag == "source" and self._in_video and attr.get("src"):
            self.videos.append(attr["src"])
        elif tag == "img" and attr.get("src"):
            (self.main_images if self._in_main else self.images).append(attr["src"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in ("main", "article"):
            self._in_main = max(0, self._in_main - 1)
        elif tag == "video":
            self._in_video = max(0, self._in_video - 1)

    def handle_data(self, data: str) -> None:
        if self._in_title and len(self.title) < TEXT_CHARS:
            self.title += data

    def close(self) -> None:
        super().close()
        if self.main_images:  # the main content's pictures, not the site's logos
            self.images = self.main_images

    def _meta(self, attr: dict[str, str]) -> None:
        key = (attr.get("property") or attr.get("name") or "").strip().lower()
        content = attr.get("content", "")
        if not key or not content:
            return
        self.meta.setdefault(key, content[:TEXT_CHARS])
        if key in self.OG_VIDEO:
            self.og_videos.append(content)
        elif key in self.OG_IMAGE:
            self.og_images.append(content)


def looks_like_html(head: bytes) -> bool:
    """Whether a body is a page, whatever its Content-Type says."""
    start = head.lstrip()[:100].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<!--", b"<meta", b"<body"))
