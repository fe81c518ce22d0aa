"""links: the post's address gets page searches, each item its files and, with a direct
image URL, each engine's search by URL; a post's address is never searched as an image."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediacheck.review.links import ENGINES, is_image_url, search_url
from mediacheck.store.cases import CaseFields
from mediacheck.store.models import KeyframeRow
from tests.media import photo

SOURCE = "https://t.me/somechannel/1234?single"
ENCODED = "https%3A%2F%2Ft.me%2Fsomechannel%2F1234%3Fsingle"
IMAGE = "https://cdn.example.org/2019/strike.jpg?w=1200"
IMAGE_ENCODED = "https%3A%2F%2Fcdn.example.org%2F2019%2Fstrike.jpg%3Fw%3D1200"
UPLOAD_PAGES = [
    "  Google Lens        https://lens.google.com/",
    "  Bing Visual Search https://www.bing.com/visualsearch",
    "  Yandex Images      https://yandex.com/images/",
    "  TinEye             https://tineye.com/",
]


def _original(store_dir: Path, sha: str) -> str:
    return str((store_dir / "originals" / sha[:2] / sha[2:4] / sha).absolute())


def test_search_urls_encode_the_whole_image_url():
    assert [search_url(engine, IMAGE) for engine in ENGINES] == [
        f"https://lens.google.com/uploadbyurl?url={IMAGE_ENCODED}",
        f"https://www.bing.com/images/search?q=imgurl:{IMAGE_ENCODED}&view=detailv2&iss=sbi",
        f"https://yandex.com/images/search?rpt=imageview&url={IMAGE_ENCODED}",
        f"https://tineye.com/search?url={IMAGE_ENCODED}",
    ]
    assert search_url(ENGINES[3], "https://example.com/a b/é&x=1") == (
        "https://tineye.com/search?url=https%3A%2F%2Fexample.com%2Fa%20b%2F%C3%A9%26x%3D1"
    )


@pytest.mark.parametrize(
    ("url", "image"),
    [
        ("https://cdn.example.org/a/strike.JPG", True),
        ("http://example.org/x.webp?size=large", True),
        ("https://pbs.twimg.com/media/FhX2abc?format=jpg&name=large", True),
        ("https://t.me/somechannel/1234", False),
        ("https://example.org/strike.jpg.html", False),
        ("https://example.org/video.mp4", False),
        ("javascript:alert(1)//x.jpg", False),
        ("ftp://example.org/x.jpg", False),
        (None, False),
    ],
)
def test_an_image_url_is_recognised_by_its_address(url, image):
    assert is_image_url(url) is image


def test_a_post_url_gets_page_searches_and_no_image_search(cli, tmp_path, store_dir):
    [result] = cli.json("intake", photo(tmp_path / "strike.jpg"), "--source-url", SOURCE)
    original = _original(store_dir, result["sha256"])

    links = cli.json("links", result["case_id"])
    human = cli("links", result["case_id"]).stdout.splitlines()

    quoted = "%22" + ENCODED + "%22"
    [item] = links
    assert [(p["engine"], p["name"], p["url"]) for p in item.pop("page_searches")] == [
        ("google", "Google", f"https://www.google.com/search?q={quoted}"),
        ("bing", "Bing", f"https://www.bing.com/search?q={quoted}"),
        ("wayback", "Wayback Machine", f"https://web.archive.org/web/*/{SOURCE}"),
        ("archive-today", "archive.today", f"https://archive.ph/{SOURCE}"),
    ]
    assert {k: v for k, v in item.items() if k != "searches"} == {
        "media_id": result["media_id"],
        "kind": "image",
        "original_name": "strike.jpg",
        "source_url": SOURCE,
        "image_url": None,
        "image_url_from": None,
        "files": [original],
    }
    assert [(s["engine"], s["name"], s["url"], s["upload_page"]) for s in item["searches"]] == [
        ("google-lens", "Google Lens", None, "https://lens.google.com/"),
        ("bing", "Bing Visual Search", None, "https://www.bing.com/visualsearch"),
        ("yandex", "Yandex Images", None, "https://yandex.com/images/"),
        ("tineye", "TinEye", None, "https://tineye.com/"),
    ]
    assert all(s["files"] == [original] for s in item["searches"])
    assert human == [
        f"search this page  {SOURCE}",
        f"  Google             https://www.google.com/search?q={quoted}",
        f"  Bing               https://www.bing.com/search?q={quoted}",
        f"  Wayback Machine    https://web.archive.org/web/*/{SOURCE}",
        f"  archive.today      https://archive.ph/{SOURCE}",
        f"{result['media_id']}  strike.jpg  image",
        f"  upload             {original}",
        *UPLOAD_PAGES,
    ]
    # No image engine is given the post's address.
    assert not any(ENCODED in line or SOURCE in line for line in human[5:])


def test_a_note_with_the_image_address_gives_each_engine_a_search_by_url(cli, tmp_path, store_dir):
    first, second = cli.json(
        "intake",
        photo(tmp_path / "a.jpg"),
        photo(tmp_path / "b.jpg", seed=3),
        "--one-case",
        "--source-url",
        SOURCE,
    )
    case_id = first["case_id"]
    cli("note", case_id, "--media", second["media_id"][:6], "--url", IMAGE, "Same file in 2019")
    cli("note", case_id, "--media", first["media_id"], "--url", SOURCE, "The post itself")

    links = cli.json("links", case_id)
    human = cli("links", case_id).stdout.splitlines()

    by_id = {item["media_id"]: item for item in links}
    assert [s["url"] for s in by_id[first["media_id"]]["searches"]] == [None] * 4
    found = by_id[second["media_id"]]
    assert (found["image_url"], found["image_url_from"]) == (IMAGE, "note 1")
    assert [s["url"] for s in found["searches"]] == [search_url(e, IMAGE) for e in ENGINES]
    assert human[-7:] == [
        f"{second['media_id']}  b.jpg  image",
        f"  upload             {_original(store_dir, second['sha256'])}",
        f"  image URL          {IMAGE} (note 1)",
        f"  Google Lens        https://lens.google.com/uploadbyurl?url={IMAGE_ENCODED}",
        f"  Bing Visual Search https://www.bing.com/images/search?q=imgurl:{IMAGE_ENCODED}"
        "&view=detailv2&iss=sbi",
        f"  Yandex Images      https://yandex.com/images/search?rpt=imageview&url={IMAGE_ENCODED}",
        f"  TinEye             https://tineye.com/search?url={IMAGE_ENCODED}",
    ]


def test_a_source_url_that_is_an_image_is_searched_for_the_case_s_one_picture(cli, tmp_path):
    [one] = cli.json("intake", photo(tmp_path / "a.jpg"), "--source-url", IMAGE)
    two = cli.json(
        "intake",
        photo(tmp_path / "b.jpg", seed=4),
        photo(tmp_path / "c.jpg", seed=5),
        "--one-case",
        "--source-url",
        IMAGE,
    )

    [item] = cli.json("links", one["case_id"])
    pair = cli.json("links", two[0]["case_id"])

    assert (item["image_url"], item["image_url_from"]) == (IMAGE, "source_url")
    assert item["searches"][3]["url"] == f"https://tineye.com/search?url={IMAGE_ENCODED}"
    # Which of two pictures the address shows is not known: neither is searched by it.
    assert [i["image_url"] for i in pair] == [None, None]


def test_a_video_offers_its_original_and_its_keyframes(cli, store, tmp_path, store_dir):
    [result] = cli.json("intake", photo(tmp_path / "clip.jpg"))
    frames = [f"derived/{result['sha256'][:2]}/{result['sha256']}/keyframe-{i}.jpg" for i in (0, 1)]
    with store.session() as session:
        for idx, path in enumerate(frames):
            session.add(
                KeyframeRow(media_id=result["media_id"], idx=idx, time_s=idx * 2.0, path=path)
            )

    [item] = cli.json("links", result["case_id"])

    expected = [_original(store_dir, result["sha256"])]
    expected += [str((store_dir / p).absolute()) for p in frames]
    assert item["files"] == item["searches"][2]["files"] == expected


def test_links_of_a_case_without_media_and_of_an_unknown_case(cli, store):
    case_id = store.create_case(CaseFields(title="Empty", source_url=SOURCE), "alice").id
    assert cli.json("links", case_id) == []
    assert cli("links", case_id).stdout.splitlines()[-1] == f"{case_id} has no media to search for"
    result = cli("links", "MC-1999-0001", expect=1)
    assert result.stderr == "Error: no case 'MC-1999-0001' in this store\n"
