"""Links in: each link captured (its page, its media, its WARC), then taken in like files.

For each link, in order: fetch it under the address and size rules (``fetch``);
a body that is no page is the media itself, a page is handed to yt-dlp and,
where yt-dlp finds nothing, searched for its own media (``extract``); every
media file is downloaded and every exchange written to the link's WARC
(``capture``). Only a capture that completed is stored: its media go through
the same intake as files (hashing, description, matching, one case per link
unless the request names one), then the WARC is stored like an original and the
``source`` row, its media and its findings are recorded with a ``source-added``
event. A link that fails is one error result, and the next link is taken.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from email.utils import parsedate_to_datetime
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from mediacheck.errors import LinkError
from mediacheck.findings.service import finding_row
from mediacheck.history import chain as history
from mediacheck.intake import pipeline
from mediacheck.intake.bounds import Bounds
from mediacheck.intake.collect import InputFile, Origin, storable_name
from mediacheck.links import claims as post_claims
from mediacheck.links.capture import WARC_NAME, WarcCapture
from mediacheck.links.extract import Post, from_page, looks_like_html, with_ytdlp
from mediacheck.links.fetch import Fetched, Fetcher, FetchRules, load_cookies, read_text
from mediacheck.store.cases import CaseChanges, CaseFields
from mediacheck.store.database import Store
from mediacheck.store.models import FindingRow, Source
from mediacheck.timestamps import service as timestamps

# The response headers a source keeps (all of them stay in the WARC).
KEPT_HEADERS = ("Date", "Last-Modified", "ETag", "Content-Type", "Server")
HEAD_BYTES = 512


@dataclass
class Captured:
    """One link fetched completely, in a working folder, not yet stored."""

    url: str
    page: Fetched  # the first answer: the page, or the media itself
    post: Post
    downloads: list[Fetched]
    warc: Path


def capture(url: str, rules: FetchRules, workdir: Path, cookies: CookieJar | None) -> Captured:
    """Fetch a link and its media into ``workdir``; ``LinkError`` if any part fails."""
    warc = WarcCapture(workdir / WARC_NAME)
    fetcher = Fetcher(rules, warc, workdir, cookies)
    try:
        page = _answered(fetcher.get(url))
        if not looks_like_html(_head(page.body)):
            post, downloads = Post(extractor="direct"), [page]
        else:
            post = with_ytdlp(url, fetcher, page) or from_page(read_text(page.body), page.final_url)
            downloads = [_media(fetcher, link.url, link.headers) for link in post.media]
        if not downloads:
            raise LinkError("no media found on the page")
        described = {k: v for k, v in asdict(post).items() if k != "info"}
        warc.metadata(url, {"post": described, "extractor_info": post.info})
    finally:
        fetcher.close()
        warc.close()
    return Captured(url, page, post, downloads, warc.path)


def _answered(fetched: Fetched) -> Fetched:
    if not 200 <= fetched.status < 300:
        raise LinkError(f"HTTP {fetched.status} {fetched.reason}".strip())
    return fetched


def _media(fetcher: Fetcher, url: str, headers: dict[str, str]) -> Fetched:
    try:
        fetched = _answered(fetcher.get(url, headers))
    except LinkError as exc:
        raise LinkError(f"media {url}: {exc}") from None
    if looks_like_html(_head(fetched.body)):
        raise LinkError(f"media {url}: is a web page, not media")
    return fetched


def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(HEAD_BYTES)


@dataclass(frozen=True)
class LinkRequest:
    rules: FetchRules = FetchRules()
    jobs: int = 1
    bounds: Bounds = pipeline.DEFAULT_BOUNDS


def take_in_links(
    store: Store,
    urls: Sequence[str],
    request: pipeline.IntakeRequest,
    links: LinkRequest = LinkRequest(),
    on_result: Callable[[pipeline.IntakeResult], None] | None = None,
    on_link: Callable[[str], None] | None = None,
) -> list[pipeline.IntakeResult]:
    """Capture and take in each link; one result per media item, or one error per link.

    ``on_result`` hears of each result as it comes, ``on_link`` of each link once it is done.
    """
    cookies = load_cookies(links.rules.cookies) if links.rules.cookies else None
    results: list[pipeline.IntakeResult] = []
    for url in urls:
        with tempfile.TemporaryDirectory(prefix="mediacheck-link-") as workdir:
            try:
                captured = capture(url, links.rules, Path(workdir), cookies)
            except LinkError as exc:
                failed = pipeline.IntakeResult(path=url, status="error", error=f"{url}: {exc}")
                results.append(failed)
                if on_result is not None:
                    on_result(failed)
                if on_link is not None:
                    on_link(url)
                continue
            found = _take_in(store, captured, request, links, on_result)
        results.extend(found)
        if on_link is not None:
            on_link(url)
        case_id = next((r.case_id for r in found if r.case_id), None)
        if request.one_case and request.case_id is None and case_id:
            request = replace(request, case_id=case_id)  # the next links join its case
    return results


def _take_in(
    store: Store,
    captured: Captured,
    request: pipeline.IntakeRequest,
    links: LinkRequest,
    on_result: Callable[[pipeline.IntakeResult], None] | None,
) -> list[pipeline.IntakeResult]:
    """The capture's media into their case, then its WARC and its source row."""
    post = _claims_of(captured)
    if request.case_id is None:
        request = replace(request, one_case=True, fields=_filled(request, captured, post))
    items = [_input(download) for download in captured.downloads]
    results = pipeline.intake(
        store, [], request, on_result, files=items, jobs=links.jobs, bounds=links.bounds
    )
    case_id = next((r.case_id for r in results if r.case_id), None)
    if case_id is None:
        return results  # every item was already stored, in no new case: nothing is written
    media_ids = [r.media_id for r in results if r.case_id == case_id and r.media_id]
    said = _case_claims(store, case_id)
    _fill_gaps(store, case_id, request.user, post_claims.gaps(said, post))
    urls = tuple(u for u in (captured.url, captured.page.final_url, captured.post.webpage_url) if u)
    findings = [
        finding_row(found, case_id, media_id, at=captured.page.fetched_at)
        for found in post_claims.disagreements(said, post, urls)
        for media_id in media_ids
    ]
    source = _captured(store, captured, case_id, request.user, media_ids, findings)
    # After the commit: a TSA that fails leaves the capture standing, its outcome on its media.
    stamp = timestamps.stamp_warc(store, store.settings, source.warc_sha256, case_id)
    for result in results:
        if stamp is not None and result.case_id == case_id:
            result.timestamp = asdict(stamp)
    return results


def _captured(
    store: Store,
    captured: Captured,
    case_id: str,
    user: str,
    media_ids: list[str],
    findings: list[FindingRow],
) -> Source:
    """Store a complete capture: its WARC like an original, then its source row and event.

    Once this returns, the WARC is in the blob store under ``source.warc_path`` (named by
    ``source.warc_sha256``) and the row that names it is committed.
    """
    warc = store.blobs.put(captured.warc)
    source = _source(store, captured, case_id, user, warc.sha256, warc.size)
    return store.add_source(source, media_ids, findings, _event_details(source, media_ids))


def _claims_of(captured: Captured) -> post_claims.Claims:
    post = captured.post
    return post_claims.post_claims(captured.url, post.platform, post.posted_at)


def _filled(
    request: pipeline.IntakeRequest, captured: Captured, post: post_claims.Claims
) -> CaseFields:
    """A new case's fields: the user's, and the post's where the user gave none."""
    fields = request.fields
    gaps = post_claims.gaps(
        post_claims.Claims(fields.source_url, fields.platform, fields.posted_at), post
    )
    return replace(
        fields,
        title=fields.title or captured.post.title or captured.url,
        source_url=fields.source_url or gaps.source_url,
        platform=fields.platform or gaps.platform,
        posted_at=fields.posted_at or gaps.posted_at,
    )


def _case_claims(store: Store, case_id: str) -> post_claims.Claims:
    case = store.get_case(case_id)
    return post_claims.Claims(case.source_url, case.platform, case.posted_at)


def _fill_gaps(store: Store, case_id: str, user: str, gaps: post_claims.Claims) -> None:
    """The case's empty source fields, from the post (each change an event, as ``case set``).

    A case made from this link was made with them: only an existing case has gaps here.
    """
    if gaps.source_url or gaps.platform or gaps.posted_at:
        changes = CaseChanges(
            source_url=gaps.source_url, platform=gaps.platform, posted_at=gaps.posted_at
        )
        store.update_case(case_id, changes, user)


def _input(download: Fetched) -> InputFile:
    """A downloaded file as intake takes it: named by its URL, dated by Last-Modified."""
    name = unquote(urlsplit(download.final_url).path.rsplit("/", 1)[-1]) or "download"
    origin = Origin(
        name=storable_name(name),
        path=download.final_url,
        mtime=_http_time(download.header("Last-Modified")),
        added_at=history.now(),
    )
    return InputFile(path=download.body, origin=origin)


def _http_time(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).isoformat(timespec="seconds")
    except (TypeError, ValueError):
        return None


def _source(
    store: Store, captured: Captured, case_id: str, user: str, sha256: str, size: int
) -> Source:
    page, post = captured.page, captured.post
    kept = {name: page.header(name) for name in KEPT_HEADERS}
    return Source(
        case_id=case_id,
        url=captured.url,
        final_url=page.final_url,
        fetched_at=page.fetched_at,
        fetched_by=user,
        status=page.status,
        headers={k: v for k, v in kept.items() if v is not None},
        extractor=post.extractor,
        uploader=post.uploader,
        uploader_id=post.uploader_id,
        title=post.title,
        description=post.description,
        posted_at=post_claims.normal_time(post.posted_at),
        view_count=post.view_count,
        like_count=post.like_count,
        comment_count=post.comment_count,
        webpage_url=post.webpage_url,
        thumbnails=list(post.thumbnails),
        warc_sha256=sha256,
        warc_size=size,
        warc_path=store.blobs.original_key(sha256),
    )


def _event_details(source: Source, media_ids: list[str]) -> dict[str, Any]:
    """What the history holds of a source: enough for ``verify`` to check the row and WARC."""
    return {
        "url": source.url,
        "final_url": source.final_url,
        "fetched_at": source.fetched_at,
        "status": source.status,
        "extractor": source.extractor,
        "warc_sha256": source.warc_sha256,
        "warc_size": source.warc_size,
        "media_ids": list(dict.fromkeys(media_ids)),
    }
