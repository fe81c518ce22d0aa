"""links, note and verdict: reverse searches, their findings and four-eyes review."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict

import click

from mediacheck.cli.options import URL, json_option, open_store, store_options
from mediacheck.cli.output import console, inert, print_json, text, warning_line
from mediacheck.errors import InvalidValue, MediaChoiceNeeded
from mediacheck.review import ratings, rules


class RatingType(click.ParamType):
    """A MediaReview rating, in any letter case."""

    name = "RATING"

    def __init__(self, allow_unverified: bool = False):
        self.allow_unverified = allow_unverified

    def convert(self, value, param, ctx):
        try:
            return ratings.normalize_rating(value, self.allow_unverified)
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)


class EarliestDateType(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx):
        try:
            return rules.parse_earliest_date(value)
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)


RATING = RatingType()
VERDICT_FILTER = RatingType(allow_unverified=True)


@click.command()
@click.argument("case_id", metavar="CASE")
@json_option
@store_options
def links(case_id, as_json, settings):
    """Where to search for earlier copies: the post's address and each media item.

    The case's source URL (a post) gets page searches: Google and Bing for
    pages quoting it, the Wayback Machine and archive.today for archived
    copies. Each media item gets the files to upload to Google Lens, Bing,
    Yandex and TinEye (the stored original and a video's keyframes) and, when
    a note on it or the source URL is the address of an image file, each
    engine's search-by-URL link. A post's address is never searched as an image.

    \b
    Example:
        mediacheck links MC-2026-0002
        mediacheck links MC-2026-0002 --json
    """
    from mediacheck.review.links import case_links

    found = case_links(open_store(settings), case_id)
    if as_json:
        # A list of media items, as scripts have read it; each names the page searches too.
        pages = [asdict(page) for page in found.page_searches]
        print_json([{**asdict(item), "page_searches": pages} for item in found.media])
        return
    _print_links(found)


def _print_links(found) -> None:
    if found.page_searches:
        console.print(f"[bold]search this page[/bold]  {text(found.source_url)}")
        for page in found.page_searches:
            console.print(f"  {page.name:<18} {text(page.url)}")
    if not found.media:
        console.print(f"{text(found.case_id)} has no media to search for")
    for item in found.media:
        console.print(
            f"[bold]{text(item.media_id)}[/bold]  {text(item.original_name)}  {text(item.kind)}"
        )
        for label, path in zip(_file_labels(item), item.files, strict=True):
            console.print(f"  {label:<18} {text(path)}")
        if item.image_url:
            console.print(
                f"  {'image URL':<18} {text(item.image_url)} ({text(item.image_url_from)})"
            )
        for search in item.searches:
            console.print(f"  {search.name:<18} {text(search.url or search.upload_page)}")


def _file_labels(item) -> list[str]:
    """ "upload" beside a picture's original; a video's is kept, its keyframes are uploaded."""
    first = "upload" if item.kind == "image" else f"original {item.kind}"
    return [first, *(["upload keyframe"] * (len(item.files) - 1))]


@click.command()
@click.argument("case_id", metavar="CASE")
@click.argument("note_text", metavar="TEXT")
@click.option("--engine", help="Reverse-search engine: google-lens, bing, yandex, tineye, ...")
@click.option("--url", type=URL, help="The result found: where the media was seen.")
@click.option(
    "--earliest-date",
    type=EarliestDateType(),
    help="Earliest date the media was found online (ISO 8601 date or time).",
)
@click.option("--media", metavar="MEDIA_ID", help="The media item searched (id or prefix).")
@click.option("--corrects", type=int, metavar="NOTE_ID", help="The earlier note this corrects.")
@json_option
@store_options
def note(case_id, note_text, engine, url, earliest_date, media, corrects, as_json, settings):
    """Record a reverse-search finding, or a plain note without --engine.

    Notes are never edited or deleted: correct one with a new note and
    --corrects.

    \b
    Example:
        mediacheck note MC-2026-0002 --engine tineye --url https://example.com/2019/strike.jpg \\
            --earliest-date 2019-03-02 "Same picture in a 2019 article"
        mediacheck note MC-2026-0002 --corrects 1 "The 2019 article is from 2021"
    """
    from mediacheck.review import service as review

    saved = review.add_note(
        open_store(settings),
        case_id,
        settings.user,
        note_text,
        engine=engine,
        url=url,
        earliest_date=earliest_date,
        media=media,
        corrects=corrects,
    )
    [doc] = rules.note_documents([saved])
    if as_json:
        print_json(doc)
        return
    console.print(f"note {saved.id} added to {text(case_id)} by {text(saved.author)}")


MEDIA_OPTION = click.option(
    "--media",
    metavar="MEDIA_ID",
    help="The media item of the case (a prefix of its id or SHA-256); "
    "needed when the case holds several.",
)


@click.group()
def verdict():
    """Propose, approve or reject a MediaReview verdict on a media item (four eyes).

    Each media item of a case has its own verdicts. The case's final verdict is
    Unverified until every item has an approved one, then their rating (or
    "Mixed: ..." when they differ).

    \b
    Example:
        mediacheck verdict propose MC-2026-0002 decontextualizedcontent --media 3f2a \\
            --rationale "TinEye finds it in a 2019 article"
        mediacheck verdict approve MC-2026-0002 --user bob
    """


@verdict.command()
@click.argument("case_id", metavar="CASE")
@click.argument("rating", type=RATING)
@MEDIA_OPTION
@click.option("--rationale", required=True, help="Why: what the evidence shows.")
@click.option("--original-url", type=URL, help="Where the original media was first published.")
@click.option("--original-context", help="What the original media really shows.")
@click.option(
    "--confidence", type=click.Choice(ratings.CONFIDENCES, case_sensitive=False), help="How sure."
)
@json_option
@store_options
def propose(
    case_id, rating, media, rationale, original_url, original_context, confidence, as_json, settings
):
    """Propose a verdict on one media item; it is final once another user approves it.

    RATING is one of OriginalMediaContent, DecontextualizedContent,
    EditedOrCroppedContent, TransformedContent, StagedContent,
    SatireOrParodyContent (any letter case). Without --media the case's only
    item is rated; a case with several items needs --media.

    \b
    Example:
        mediacheck verdict propose MC-2026-0002 DecontextualizedContent --media 3f2a \\
            --rationale "Same picture in a 2019 article" \\
            --original-url https://example.com/2019/strike --confidence high
    """
    from mediacheck.review import service as review

    proposal = review.Proposal(
        rating=rating,
        rationale=rationale,
        original_url=original_url,
        original_context=original_context,
        confidence=confidence.lower() if confidence else None,
    )
    with _media_choice():
        saved = review.propose(open_store(settings), case_id, settings.user, proposal, media)
    _print_verdict(saved, as_json)


@verdict.command()
@click.argument("case_id", metavar="CASE")
@MEDIA_OPTION
@click.option("--comment", help="A word on the approval.")
@json_option
@store_options
def approve(case_id, media, comment, as_json, settings):
    """Approve the proposed verdict of a media item; its proposer cannot.

    Without --media: the one item whose proposal awaits review. With
    MEDIACHECK_TSA_URL set, the case's history head after the approval gets an
    RFC 3161 time-stamp; if the authority fails, the approval stands with a
    warning (retry with `mediacheck stamp CASE`). `--json` adds `timestamp`.

    \b
    Example:
        mediacheck verdict approve MC-2026-0002 --comment "Checked the 2019 article"
        mediacheck verdict approve MC-2026-0002 --media 3f2a --user bob
    """
    from mediacheck.review import service as review

    with _media_choice():
        approval = review.approve_and_stamp(
            open_store(settings), case_id, settings.user, comment, media
        )
    stamp = approval.stamp
    if stamp is not None and stamp.error:
        warning_line(
            f"{case_id}: the time-stamp of the approval failed: {stamp.error}; the approval "
            f"stands: run `mediacheck stamp {case_id}` to try again"
        )
    extra = {"timestamp": None if stamp is None else asdict(stamp)}
    _print_verdict(approval.verdict, as_json, extra)


@verdict.command()
@click.argument("case_id", metavar="CASE")
@MEDIA_OPTION
@click.option("--reason", required=True, help="Why the proposal is rejected.")
@json_option
@store_options
def reject(case_id, media, reason, as_json, settings):
    """Reject the proposed verdict of a media item (its proposer may withdraw it so).

    Without --media: the one item whose proposal awaits review.

    \b
    Example:
        mediacheck verdict reject MC-2026-0002 --reason "The 2019 article shows another building"
    """
    from mediacheck.review import service as review

    with _media_choice():
        saved = review.reject(open_store(settings), case_id, settings.user, reason, media)
    _print_verdict(saved, as_json)


@contextmanager
def _media_choice():
    """A case with several items and no --media is a usage error (exit 2) naming them."""
    try:
        yield
    except MediaChoiceNeeded as exc:
        raise click.UsageError(inert(str(exc))) from exc


def _print_verdict(saved, as_json: bool, extra: dict | None = None) -> None:
    doc = rules.verdict_document(saved)
    if as_json:
        print_json(doc | (extra or {}))
        return
    who = saved.decided_by or saved.proposed_by
    console.print(
        f"{text(saved.case_id)} media {text(saved.media_id)}: "
        f"{text(saved.rating)} {saved.state} by {text(who)}"
    )


COMMANDS = [links, note, verdict]
