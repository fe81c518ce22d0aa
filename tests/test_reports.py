"""report and export --all: every format renders every part, and hostile values stay text."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import random
import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from mediacheck import config
from mediacheck.publish import export as archive
from mediacheck.publish import mediareview, reports
from mediacheck.review import ratings
from mediacheck.store.database import Store
from mediacheck.store.models import KeyframeRow
from scripts.copy_move_sets import forge, photo_from
from tests.corpus import FILES, needs_corpus
from tests.media import photo

SCRIPT = '<script>document.title="pwned"</script>'
HOSTILE_EXIF = {
    0x010E: SCRIPT,  # ImageDescription
    0x013B: '"><img src=x onerror=alert(1)>',  # Artist
    0x8298: "javascript:alert(3)",  # Copyright
    0x010F: "</td></tr></table><script>alert(4)</script>",  # Make
    0x0131: "' onmouseover='alert(5)",  # Software
}
HOSTILE_XMP = (
    '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmp:BaseURL="javascript:alert(7)" xmp:Label="&lt;script&gt;alert(8)&lt;/script&gt;">'
    "<dc:source>&quot; onclick=&quot;alert(9)</dc:source></rdf:Description></rdf:RDF>"
    '</x:xmpmeta><?xpacket end="w"?>'
)
HOSTILE_NAME = '"><script>alert(6)<\\script>.jpg'
HOSTILE_TEXTS = (
    *HOSTILE_EXIF.values(),
    "javascript:alert(7)",
    "<script>alert(8)</script>",
    '" onclick="alert(9)',
    HOSTILE_NAME,
    "<b>IVIC</b> hit",
    "TinEye: <img src=x onerror=alert(10)>",
)
CSS = (Path(reports.__file__).parent / "templates" / "report.css").read_bytes()
CSP = (
    "default-src 'none'; img-src data:; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(CSS).digest()).decode()}'; "
    "base-uri 'none'; form-action 'none'"
)
# Every tag the report template writes: anything else came from a value.
SAFE_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "main",
    "header",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "span",
    "p",
    "table",
    "tr",
    "th",
    "td",
    "a",
    "section",
    "details",
    "summary",
    "img",
    "figure",
    "figcaption",
    "ul",
    "ol",
    "li",
    "time",
    "footer",
    "br",
}


def hostile_photo(folder: Path) -> Path:
    """A JPEG whose EXIF, XMP, GPS and very name are attacks on the report."""
    folder.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif.update(HOSTILE_EXIF)
    exif[0x8825] = {1: "N", 2: (50.0, 27.0, 0.0), 3: "E", 4: (30.0, 31.0, 0.0)}
    with Image.open(photo(folder / "base.png")) as img:
        img.save(folder / HOSTILE_NAME, exif=exif, xmp=HOSTILE_XMP.encode())
    return folder / HOSTILE_NAME


def hostile_case(tmp_path: Path, cli) -> str:
    """A case of the hostile photo with a note and an approved verdict; returns its id."""
    path = hostile_photo(tmp_path / "incoming")
    [result] = cli.json(
        "intake",
        path,
        "--title",
        "<b>IVIC</b> hit",
        "--claim",
        SCRIPT,
        "--source-url",
        "https://t.me/channel/1234",
        "--posted-at",
        "2026-01-03T06:10:00Z",
    )
    case_id = result["case_id"]
    note = "TinEye: <img src=x onerror=alert(10)>"
    cli("note", case_id, note, "--engine", "tineye", "--url", "https://tineye.com/s?q=1")
    cli(
        "verdict",
        "propose",
        case_id,
        "DecontextualizedContent",
        "--rationale",
        "Same picture in a 2019 article",
        "--original-url",
        "https://example.org/2019/strike",
        "--original-context",
        "A 2019 fire in Kharkiv",
    )
    cli("verdict", "approve", case_id, user="bob")
    return case_id


class Page(HTMLParser):
    """Tags, attributes and text of an HTML page, as a browser's parser sees them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def values(self, tag: str, attr: str) -> list[str]:
        return [a[attr] for t, a in self.tags if t == tag and attr in a]


@pytest.fixture
def case_id(tmp_path, cli) -> str:
    return hostile_case(tmp_path, cli)


def test_html_report_of_hostile_metadata_runs_nothing_and_shows_the_text(case_id, cli):
    page = Page(cli("report", case_id).stdout)

    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags and "iframe" not in tags and "object" not in tags
    handlers = [name for _, attrs in page.tags for name in attrs if name.startswith("on")]
    assert handlers == []
    assert page.values("meta", "content")[0] == CSP
    assert page.values("meta", "http-equiv") == ["Content-Security-Policy"]
    assert sorted(set(page.values("a", "href"))) == [
        "https://example.org/2019/strike",
        "https://t.me/channel/1234",
        "https://tineye.com/s?q=1",
        "https://www.openstreetmap.org/?mlat=50.450000&mlon=30.516667#map=16/50.450000/30.516667",
    ]
    assert all(src.startswith("data:image/jpeg;base64,") for src in page.values("img", "src"))
    text = "".join(page.text)
    for hostile in HOSTILE_TEXTS:
        assert hostile in text


def test_html_report_has_every_part(case_id, cli):
    page = Page(cli("report", case_id).stdout)
    text = " ".join(" ".join(page.text).split())

    headings = [
        t for t in page.text if t in ("Summary", "Verdict", "Reverse-search notes", "History")
    ]
    # The summary's own "Verdict" row comes before the Verdict section.
    assert headings == ["Summary", "Verdict", "Verdict", "Reverse-search notes", "History"]
    assert "DecontextualizedContent approved" in text
    assert "A 2019 fire in Kharkiv" in text
    assert "Approved" in text and "by bob" in text
    assert "Metadata summary" in text and "All metadata (" in text
    history = cli.json("history", case_id)
    assert [e["action"] for e in history] == [
        "case-created",
        "media-added",
        "note-added",
        "verdict-proposed",
        "verdict-approved",
    ]
    for event in history:
        assert event["hash"][:16] in text
    [media] = cli.json("show", case_id)["media"]
    pictures = [f["code"] for f in media["findings"] if f["image"]]
    for finding in media["findings"]:
        assert f"{finding['severity']} {finding['code']} {finding['message']}" in text
    alts = page.values("img", "alt")
    assert alts == [f"thumbnail of {HOSTILE_NAME}", *(f"{code} picture" for code in pictures)]


def test_thumbnail_is_a_bounded_reencoding_not_the_original(case_id, cli, store):
    page = Page(cli("report", case_id).stdout)
    [thumbnail] = [a["src"] for t, a in page.tags if a.get("alt") == f"thumbnail of {HOSTILE_NAME}"]
    data = base64.b64decode(thumbnail.split(",", 1)[1])

    with Image.open(io.BytesIO(data)) as img:
        assert (img.format, img.size) == ("JPEG", (480, 360))
        assert "exif" not in img.info
    [(_, media)] = store.case_media(case_id)
    assert data != store.blobs.original_path(media.sha256).read_bytes()
    assert b"pwned" not in data


@needs_corpus
def test_html_report_shows_the_copy_move_picture(tmp_path, cli):
    forged = tmp_path / "forged.jpg"
    forged.write_bytes(forge(photo_from(FILES / "exifr/door-knocker.jpg"), random.Random(3)).jpeg)
    (result,) = cli.json("intake", forged)
    page = Page(cli("report", result["case_id"]).stdout)
    text = " ".join(" ".join(page.text).split())
    assert "warning copy-move Part of the picture appears to be copied from another part" in text
    [src] = [a["src"] for t, a in page.tags if a.get("alt") == "copy-move picture"]
    with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as shown:
        assert (shown.format, max(shown.size)) == ("JPEG", reports.FINDING_SIZE)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a?b=1", "https://example.org/a?b=1"),
        ("HTTP://example.org", "HTTP://example.org"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        (" javascript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("https://example.org/a b", None),
        ('https://example.org/"onmouseover="x', None),
        ("https:///nohost", None),
        ("//example.org", None),
        (None, None),
        (42, None),
    ],
)
def test_only_plain_http_urls_become_links(url, expected):
    assert reports.http_url(url) == expected


def _document(**overrides) -> dict:
    doc = {
        "case_id": "MC-2026-0009",
        "title": "t",
        "claim": None,
        "source_url": "javascript:alert(1)",
        "platform": None,
        "posted_at": None,
        "status": "open",
        "tags": [],
        "assignee": None,
        "claimed_location": None,
        "created_by": "alice",
        "created_at": "2026-01-01T00:00:00+00:00",
        "media": [],
        "notes": [],
        "history": [],
    }
    return doc | overrides


def test_hostile_urls_in_the_document_are_shown_as_text_only(store):
    note = {
        "id": 1,
        "media_id": None,
        "engine": "yandex",
        "url": "JavaScript:alert(2)",
        "earliest_date": None,
        "text": "n",
        "author": "a",
        "at": "x",
        "corrects": None,
        "corrected_by": [],
    }
    verdict = {"rating": "StagedContent", "state": "proposed", "original_url": "data:x,1"}
    doc = _document(notes=[note], verdict=verdict)

    page = Page(reports.render_html(store, doc))

    assert page.values("a", "href") == []
    text = "".join(page.text)
    assert "javascript:alert(1)" in text and "JavaScript:alert(2)" in text and "data:x,1" in text
    markdown = reports.render_markdown(doc)
    assert "](" not in markdown and "<javascript" not in markdown.lower()


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory) -> Store:
    return Store.open(config.resolve(store=tmp_path_factory.mktemp("empty"), db_url="", user="a"))


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=60))
def test_any_text_stays_text(text, empty_store):
    doc = _document(title=text, claim=text, source_url=text, notes=[], verdict=None)

    page = Page(reports.render_html(empty_store, doc))
    markdown = reports.markdown_text(text)

    assert {tag for tag, _ in page.tags} <= SAFE_TAGS
    assert " ".join(text.split()) in " ".join("".join(page.text).split())
    assert "\n" not in markdown
    assert re.search(r"(?<!\\)[<>\[\]`*_|]", markdown.replace("\\\\", "")) is None


def test_findings_keyframes_contact_sheet_and_seen_before_are_rendered(store):
    folder = store.root / "derived" / "ab" / "abc"
    folder.mkdir(parents=True)
    for name in ("ela.png", "k0.jpg", "sheet.jpg"):
        photo(folder / name, size=(200, 100))
    media = {
        "media_id": "abc",
        "sha256": "ab" * 32,
        "kind": "video",
        "original_name": "clip.mp4",
        "keyframes": [{"path": "derived/ab/abc/k0.jpg", "time_s": 1.5}],
        "contact_sheet": "derived/ab/abc/sheet.jpg",
        "findings": [
            {
                "code": "ela-hotspot",
                "severity": "warning",
                "message": "Error levels differ",
                "evidence": {"ratio": 0.4},
                "image": "derived/ab/abc/ela.png",
            },
            {"code": "escape", "severity": "info", "message": "m", "image": "../../etc/passwd"},
        ],
        "seen_before": [
            {
                "case_id": "MC-2025-0001",
                "media_id": "ffee",
                "sha256": "ff" * 32,
                "method": "pdq",
                "distance": 12,
                "frame_time_s": None,
            }
        ],
    }

    html = reports.render_html(store, _document(media=[media]))
    page = Page(html)

    alts = page.values("img", "alt")
    assert alts == [
        "new: clip.mp4",  # beside the archive's picture, which is not in this store
        "thumbnail of clip.mp4",  # its first keyframe
        "keyframe at 1.50 s",
        "contact sheet",
        "ela-hotspot picture",
    ]
    text = " ".join(" ".join(page.text).split())
    assert "warning ela-hotspot Error levels differ" in text
    assert "ratio 0.4" in text
    # The store holds no case MC-2025-0001: its verdict cannot be cited.
    assert "MC-2025-0001 Unverifiable ffee pdq 12" in text
    markdown = reports.render_markdown(_document(media=[media]))
    assert "- **warning** `ela-hotspot`: Error levels differ" in markdown
    assert "- media `ffee` in case MC\\-2025\\-0001 (Unverified) by pdq" not in markdown
    assert "- media `ffee` in case MC-2025-0001 (Unverified) by pdq, distance 12\n" in markdown


def test_markdown_report_escapes_hostile_text(case_id, cli):
    markdown = cli("report", case_id, "--format", "md").stdout

    assert markdown.startswith(f"# {case_id}: \\<b\\>IVIC\\</b\\> hit\n")
    assert '> \\<script\\>document.title="pwned"\\</script\\>\n' in markdown
    assert "**DecontextualizedContent** (approved)\n" in markdown
    assert "- **Original media:** <https://example.org/2019/strike>\n" in markdown
    assert "- **Source:** <https://t.me/channel/1234>\n" in markdown
    assert "- make: \\</td\\>\\</tr\\>\\</table\\>\\<script\\>alert(4)\\</script\\>\n" in markdown
    assert "TinEye: \\<img src=x onerror=alert(10)\\>" in markdown
    assert re.search(r"(?<!\\)<(script|img)", markdown) is None
    assert re.search(
        r"\n- \d\d:\d\d:\d\d bob approved DecontextualizedContent for media [0-9a-f]{8}…\n",
        markdown,
    )


def test_json_report_is_show_json_plus_history(case_id, cli):
    report = json.loads(cli("report", case_id, "--format", "json").stdout)

    history = report.pop("history")
    assert report == cli.json("show", case_id)
    assert history == cli.json("history", case_id)


def test_report_writes_a_file(case_id, cli, tmp_path):
    out = tmp_path / "out.md"
    result = cli("report", case_id, "--format", "md", "-o", out)

    assert result.stdout == f"{case_id}: md report written to {out}\n"
    assert out.read_text().startswith(f"# {case_id}: ")


def test_report_errors(cli, store):
    missing = cli("report", "MC-2000-0001", expect=1)
    assert missing.stderr == "Error: no case 'MC-2000-0001' in this store\n"
    usage = cli("report", "MC-2000-0001", "--claim-review", expect=2)
    assert "--claim-review and --review-url go with --format mediareview" in usage.stderr
    nowhere = cli("report", "MC-2000-0001", "-o", "/nonexistent/r.html", expect=2)
    assert "the folder /nonexistent does not exist" in nowhere.stderr


# MediaReview


def check_media_review(reviews: list, doc: dict) -> dict:
    """The types and required properties of schema.org MediaReview as Google reads it.

    One review per media item with an approved verdict, each about that item alone;
    returns the only one.
    """
    rated = [m for m in doc["media"] if m["final_verdict"] != "Unverified"]
    assert len(reviews) == len(rated)
    for data, media in zip(reviews, rated, strict=True):
        assert data["@context"] == "https://schema.org"
        assert data["@type"] == "MediaReview"
        assert data["identifier"] == f"{doc['case_id']}/{media['media_id']}"
        assert data["mediaAuthenticityCategory"] == media["final_verdict"]
        assert data["mediaAuthenticityCategory"] in ratings.RATINGS
        datetime.fromisoformat(data["datePublished"])
        assert data["author"] and all(a["@type"] == "Person" and a["name"] for a in data["author"])
        item = data["itemReviewed"]
        assert item["@type"] == "MediaReviewItem"
        [appearance] = item["mediaItemAppearance"]
        assert appearance["sha256"] == media["sha256"]
        assert appearance["@type"] in ("ImageObject", "VideoObject", "AudioObject", "MediaObject")
        assert appearance["contentUrl"] == mediareview.content_url(media["sha256"])
        assert re.fullmatch(r"ni:///sha-256;[A-Za-z0-9_-]{43}", appearance["contentUrl"])
        assert re.fullmatch(r"[0-9a-f]{64}", appearance["sha256"])
    return reviews[0]


def test_media_review_of_an_approved_verdict(case_id, cli):
    reviews = json.loads(cli("report", case_id, "--format", "mediareview").stdout)
    doc = cli.json("show", case_id)

    data = check_media_review(reviews, doc)
    assert data["mediaAuthenticityCategory"] == "DecontextualizedContent"
    assert data["originalMediaLink"] == "https://example.org/2019/strike"
    assert data["originalMediaContextDescription"] == "A 2019 fire in Kharkiv"
    assert data["author"] == [
        {"@type": "Person", "name": "alice"},
        {"@type": "Person", "name": "bob"},
    ]
    assert data["datePublished"] == doc["verdict"]["approved_at"]
    [appearance] = data["itemReviewed"]["mediaItemAppearance"]
    assert appearance["url"] == "https://t.me/channel/1234"
    assert appearance["name"] == HOSTILE_NAME
    assert "associatedClaimReview" not in data


def test_media_review_with_claim_review(case_id, cli):
    output = cli("report", case_id, "--format", "mediareview", "--claim-review").stdout

    # Safe to paste into <script type="application/ld+json">: no markup characters at all.
    assert not set("<>&") & set(output)

    data = check_media_review(json.loads(output), cli.json("show", case_id))
    claim = data["associatedClaimReview"]
    assert claim["@type"] == "ClaimReview"
    assert claim["claimReviewed"] == SCRIPT
    assert claim["itemReviewed"] == {
        "@type": "Claim",
        "appearance": {"@type": "CreativeWork", "url": "https://t.me/channel/1234"},
        "datePublished": "2026-01-03T06:10:00+00:00",
    }
    assert claim["reviewRating"]["@type"] == "Rating"
    assert claim["reviewRating"]["ratingExplanation"] == "Same picture in a 2019 article"
    assert claim["datePublished"] == data["datePublished"]


def test_media_review_links_the_published_review(case_id, cli):
    url = "https://factcheck.example/2026/ivic"
    args = ("--format", "mediareview", "--claim-review", "--review-url", url)
    [data] = json.loads(cli("report", case_id, *args).stdout)

    assert (data["url"], data["associatedClaimReview"]["url"]) == (url, url)
    bad = cli(
        "report", case_id, "--format", "mediareview", "--review-url", "javascript:x", expect=2
    )
    assert "'javascript:x' is not an http(s) URL" in bad.stderr


def test_media_review_needs_an_approved_verdict(tmp_path, cli):
    [result] = cli.json("intake", photo(tmp_path / "a.jpg"))
    case_id = result["case_id"]
    message = (
        f"Error: {case_id} has no approved verdict: MediaReview is published only once "
        "a verdict is proposed and approved by another reviewer\n"
    )

    assert cli("report", case_id, "--format", "mediareview", expect=1).stderr == message
    cli("verdict", "propose", case_id, "StagedContent", "--rationale", "r")
    assert cli("report", case_id, "--format", "mediareview", expect=1).stderr == message


def test_media_review_rates_each_item_alone_and_never_an_unrated_one(tmp_path, cli):
    taken = cli.json(
        "intake", photo(tmp_path / "a.jpg"), photo(tmp_path / "b.jpg", seed=5), "--one-case"
    )
    case_id = taken[0]["case_id"]
    first, second = (t["media_id"] for t in taken)
    cli(
        "verdict",
        "propose",
        case_id,
        "DecontextualizedContent",
        "--media",
        first,
        "--rationale",
        "2019",
    )
    cli("verdict", "approve", case_id, user="bob")
    cli("verdict", "propose", case_id, "StagedContent", "--media", second, "--rationale", "Actors")

    [only] = json.loads(cli("report", case_id, "--format", "mediareview").stdout)
    doc = cli.json("show", case_id)
    assert check_media_review([only], doc) == only
    assert only["identifier"] == f"{case_id}/{first}"
    markdown = cli("report", case_id, "--format", "md").stdout
    assert "- **Rating:** DecontextualizedContent\n" in markdown
    assert "- **Rating:** Unverified (newest: StagedContent proposed)\n" in markdown

    cli("verdict", "approve", case_id, user="bob")
    reviews = json.loads(cli("report", case_id, "--format", "mediareview").stdout)
    check_media_review(reviews, cli.json("show", case_id))
    assert [r["mediaAuthenticityCategory"] for r in reviews] == [
        "DecontextualizedContent",
        "StagedContent",
    ]
    assert [r["reviewBody"] for r in reviews] == ["2019", "Actors"]


def test_a_pending_proposal_leaves_the_approved_verdict_standing(case_id, cli):
    cli("verdict", "propose", case_id, "StagedContent", "--rationale", "Actors, in fact")

    text = " ".join(" ".join(Page(cli("report", case_id).stdout).text).split())
    [data] = json.loads(cli("report", case_id, "--format", "mediareview").stdout)

    assert "StagedContent proposed" in text
    assert "The approved rating that stands meanwhile: DecontextualizedContent" in text
    assert data["mediaAuthenticityCategory"] == "DecontextualizedContent"
    assert data["reviewBody"] == "Same picture in a 2019 article"


# The whole archive


def test_archive_jsonl_has_one_case_a_line(case_id, cli, tmp_path):
    cli("intake", photo(tmp_path / "b.jpg", seed=3), "--title", "second")
    out = tmp_path / "archive.jsonl"

    assert (
        cli("export", "--all", "--format", "jsonl", "-o", out, "--json").stdout
        == json.dumps(
            {
                "path": str(out),
                "format": "jsonl",
                "count": 2,
                "integrity": {"ok": True, "problems": []},
            },
            indent=2,
        )
        + "\n"
    )
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["title"] for line in lines] == ["<b>IVIC</b> hit", "second"]
    assert lines[0]["history"] == cli.json("history", case_id)


def test_archive_csv_has_one_row_a_media_item_and_no_formulas(case_id, cli, tmp_path):
    cli("case", "set", case_id, "--tag", '=HYPERLINK("http://x")', "--tag", "war")
    out = tmp_path / "archive.csv"

    cli("export", "--all", "--format", "csv", "-o", out)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    assert list(rows[0]) == list(archive.COLUMNS)
    [row] = rows
    media = cli.json("show", case_id)["media"][0]
    assert (row["case_id"], row["sha256"], row["original_name"]) == (
        case_id,
        media["sha256"],
        HOSTILE_NAME,
    )
    assert row["tags"] == '\'=HYPERLINK("http://x");war'
    assert row["make"] == "</td></tr></table><script>alert(4)</script>"
    assert row["software"] == "' onmouseover='alert(5)"
    assert (row["verdict"], row["verdict_state"]) == ("DecontextualizedContent", "approved")
    assert row["final_verdict"] == row["media_final_verdict"] == "DecontextualizedContent"
    assert row["gps_longitude"] == "30.516666666666666"


def test_archive_csv_keeps_a_case_without_media_as_one_row():
    assert archive.csv_rows({"case_id": "MC-1", "tags": ["a"], "media": []}) == [
        {**dict.fromkeys(archive.CASE_COLUMNS), "case_id": "MC-1", "tags": "a"}
    ]


def test_export_usage_errors(cli, tmp_path):
    out = tmp_path / "x"
    assert "give either CASE or --all" in cli("export", "-o", out, expect=2).stderr
    both = cli("export", "MC-2026-0001", "--all", "-o", out, expect=2)
    assert "give either CASE or --all" in both.stderr
    fmt = cli("export", "MC-2026-0001", "--format", "csv", "-o", out, expect=2)
    assert "--format goes with --all" in fmt.stderr


def test_a_sighting_of_an_archive_video_shows_the_keyframe_nearest_the_match(cli, store, tmp_path):
    [archive] = cli.json("intake", photo(tmp_path / "clip.jpg"), "--title", "<i>Archive</i>")
    sha = archive["sha256"]
    folder = store.root / "derived" / sha[:2] / sha
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [(200, 100), (100, 200), (120, 120)]  # each frame told apart by its shape
    with store.session() as session:
        for idx, size in enumerate(sizes):
            photo(folder / f"k{idx}.jpg", size=size, seed=idx)
            path = f"derived/{sha[:2]}/{sha}/k{idx}.jpg"
            session.add(
                KeyframeRow(media_id=archive["media_id"], idx=idx, time_s=idx * 2.0, path=path)
            )
    match = {
        "case_id": archive["case_id"],
        "case_title": "<i>Archive</i>",
        "media_id": archive["media_id"],
        "sha256": sha,
        "method": "pdq",
        "distance": 20,
        "frame_time_s": 2.4,
        "verdict": "StagedContent",
    }
    media = {"media_id": "new1", "sha256": "ab" * 32, "kind": "image", "original_name": "n.jpg"}

    page = Page(reports.render_html(store, _document(media=[media | {"seen_before": [match]}])))

    [(_, picture)] = [(t, a) for t, a in page.tags if (a.get("alt") or "").startswith("archive: ")]
    assert picture["alt"] == f"archive: {archive['case_id']} keyframe at 2.00 s"
    data = base64.b64decode(picture["src"].split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (100, 200)
    text = " ".join(" ".join(page.text).split())
    assert f"of {archive['case_id']} “<i>Archive</i>”" in text
    assert "StagedContent, approved" in text
    assert "at 2.4 s of the archive video" in text
