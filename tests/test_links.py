"""links: search-by-URL forms with a public source, files to upload without one."""

from __future__ import annotations

from pathlib import Path

from mediacheck.review.links import ENGINES, search_url
from mediacheck.store.cases import CaseFields
from mediacheck.store.models import KeyframeRow
from tests.media import photo

SOURCE = "https://t.me/somechannel/1234?single"
ENCODED = "https%3A%2F%2Ft.me%2Fsomechannel%2F1234%3Fsingle"


def test_search_urls_encode_the_whole_source_url():
    assert [search_url(engine, SOURCE) for engine in ENGINES] == [
        f"https://lens.google.com/uploadbyurl?url={ENCODED}",
        f"https://www.bing.com/images/search?q=imgurl:{ENCODED}&view=detailv2&iss=sbi",
        f"https://yandex.com/images/search?rpt=imageview&url={ENCODED}",
        f"https://tineye.com/search?url={ENCODED}",
    ]
    assert search_url(ENGINES[3], "https://example.com/a b/é&x=1") == (
        "https://tineye.com/search?url=https%3A%2F%2Fexample.com%2Fa%20b%2F%C3%A9%26x%3D1"
    )


def test_links_with_a_source_url(cli, tmp_path: Path, store_dir: Path):
    [result] = cli.json("intake", photo(tmp_path / "strike.jpg"), "--source-url", SOURCE)
    original = str(
        (store_dir / "originals" / result["sha256"][:2] / result["sha256"][2:4]).absolute()
    )
    [item] = cli.json("links", result["case_id"])
    assert {k: v for k, v in item.items() if k != "searches"} == {
        "media_id": result["media_id"],
        "kind": "image",
        "original_name": "strike.jpg",
        "source_url": SOURCE,
    }
    assert [(s["engine"], s["name"], s["url"], s["upload_page"]) for s in item["searches"]] == [
        ("google-lens", "Google Lens", search_url(ENGINES[0], SOURCE), "https://lens.google.com/"),
        (
            "bing",
            "Bing Visual Search",
            search_url(ENGINES[1], SOURCE),
            "https://www.bing.com/visualsearch",
        ),
        ("yandex", "Yandex Images", search_url(ENGINES[2], SOURCE), "https://yandex.com/images/"),
        ("tineye", "TinEye", search_url(ENGINES[3], SOURCE), "https://tineye.com/"),
    ]
    assert item["searches"][0]["files"] == [f"{original}/{result['sha256']}"]
    assert cli("links", result["case_id"]).stdout.splitlines() == [
        f"{result['media_id']}  strike.jpg  image",
        f"  Google Lens        https://lens.google.com/uploadbyurl?url={ENCODED}",
        f"  Bing Visual Search https://www.bing.com/images/search?q=imgurl:{ENCODED}"
        "&view=detailv2&iss=sbi",
        f"  Yandex Images      https://yandex.com/images/search?rpt=imageview&url={ENCODED}",
        f"  TinEye             https://tineye.com/search?url={ENCODED}",
    ]


def test_links_without_a_source_url_name_the_file_to_upload(cli, tmp_path, store_dir):
    [result] = cli.json("intake", photo(tmp_path / "strike.jpg"))
    sha = result["sha256"]
    original = str((store_dir / "originals" / sha[:2] / sha[2:4] / sha).absolute())
    [item] = cli.json("links", result["case_id"])
    assert [(s["url"], s["files"]) for s in item["searches"]] == [(None, [original])] * 4
    assert cli("links", result["case_id"]).stdout.splitlines() == [
        f"{result['media_id']}  strike.jpg  image",
        f"  upload by hand     {original}",
        "  Google Lens        https://lens.google.com/",
        "  Bing Visual Search https://www.bing.com/visualsearch",
        "  Yandex Images      https://yandex.com/images/",
        "  TinEye             https://tineye.com/",
    ]


def test_media_with_keyframes_offers_the_keyframes(cli, store, tmp_path, store_dir):
    [result] = cli.json("intake", photo(tmp_path / "clip.jpg"))
    frames = [f"derived/{result['sha256'][:2]}/{result['sha256']}/keyframe-{i}.jpg" for i in (0, 1)]
    with store.session() as session:
        for idx, path in enumerate(frames):
            session.add(
                KeyframeRow(media_id=result["media_id"], idx=idx, time_s=idx * 2.0, path=path)
            )
    [item] = cli.json("links", result["case_id"])
    assert item["searches"][2]["files"] == [str((store_dir / p).absolute()) for p in frames]


def test_links_of_a_case_without_media_and_of_an_unknown_case(cli, store):
    case_id = store.create_case(CaseFields(title="Empty"), "alice").id
    assert cli.json("links", case_id) == []
    assert cli("links", case_id).stdout == f"{case_id} has no media to search for\n"
    result = cli("links", "MC-1999-0001", expect=1)
    assert result.stderr == "Error: no case 'MC-1999-0001' in this store\n"
