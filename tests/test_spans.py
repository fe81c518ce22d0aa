"""Video against video: which stretch of a stored video an excerpt or a compilation shows."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from mediacheck.match.index import Match
from mediacheck.match.spans import KeyframeMatch, Span, video_spans
from tests.video_clips import compilation, excerpt, scene_clip

# The stored videos have a keyframe every second, the copies one every 1.5 s: a stored
# time is found to within the stored spacing, and a copy's span runs from its first to its
# last matching keyframe, one of which may be dropped at either end.
STORED_SPACING = 1.0
COPY_SPACING = 1.5


def at(
    query_s: float, media_id: str, stored_s: float | None, method: str = "phash"
) -> KeyframeMatch:
    return KeyframeMatch(query_s, Match(media_id, stored_s, method, 2.0, 0.9))


def test_a_consistent_offset_gives_both_spans_despite_dropped_keyframes():
    found = [at(0.0, "v", 5.0), at(2.0, "v", 7.0), at(8.0, "v", 13.5), at(10.0, "v", 15.0)]
    assert video_spans(found) == {
        "v": Span(
            stored_start_s=5.0,
            stored_end_s=15.0,
            query_start_s=0.0,
            query_end_s=10.0,
            keyframes=4,
        )
    }


def test_a_stray_keyframe_match_is_left_out_of_the_span():
    found = [at(0.0, "v", 5.0), at(2.0, "v", 7.0), at(4.0, "v", 30.0), at(6.0, "v", 11.0)]
    [(media_id, span)] = video_spans(found).items()
    assert (media_id, span.query_start_s, span.query_end_s, span.keyframes) == ("v", 0.0, 6.0, 3)
    assert (span.stored_start_s, span.stored_end_s) == (5.0, 11.0)


def test_each_stored_video_of_a_compilation_gets_its_span():
    found = [at(0.0, "a", 10.0), at(2.0, "a", 12.0), at(4.0, "b", 1.0), at(6.0, "b", 3.0)]
    spans = video_spans(found)
    assert {m: (s.stored_start_s, s.stored_end_s) for m, s in spans.items()} == {
        "a": (10.0, 12.0),
        "b": (1.0, 3.0),
    }
    assert {m: (s.query_start_s, s.query_end_s) for m, s in spans.items()} == {
        "a": (0.0, 2.0),
        "b": (4.0, 6.0),
    }


def test_no_span_from_one_keyframe_or_from_a_photo():
    found = [at(0.0, "v", 5.0), at(0.0, "photo", None), at(2.0, "photo", None)]
    assert video_spans(found) == {}


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """Three stored videos of 8 s (two shots each) and copies of parts of them."""
    folder = tmp_path_factory.mktemp("spans")
    made = {
        name: scene_clip(folder / f"{name}.mp4", seeds, shot_s=4)
        for name, seeds in (("first", [11, 12]), ("second", [21, 22]), ("third", [31, 32]))
    }
    first = made["first"]
    made["trimmed"] = excerpt(first, folder / "trimmed.mp4", 2, 7, bit_rate=120_000)
    made["smaller"] = excerpt(first, folder / "smaller.mp4", 1, 7, size=(192, 108))
    made["mirrored"] = excerpt(first, folder / "mirrored.mp4", 3, 8, mirror=True)
    made["compilation"] = compilation(
        [(made["first"], 1, 5), (made["second"], 3, 7), (made["third"], 0, 4)],
        folder / "compilation.mp4",
        size=(256, 144),
    )
    return made


def spans_of(found: dict) -> tuple[float, float, float, float]:
    fields = ("stored_start_s", "stored_end_s", "query_start_s", "query_end_s")
    return tuple(found[name] for name in fields)  # type: ignore[return-value]


def shows(span: tuple, stored_from: float, start: float, end: float) -> bool:
    """A span of the copy's ``start`` to ``end`` s, which show the stored video from
    ``stored_from`` s on."""
    stored_start, stored_end, query_start, query_end = span
    offset = stored_from - start
    return (
        abs(stored_start - query_start - offset) <= STORED_SPACING
        and abs(stored_end - query_end - offset) <= STORED_SPACING
        and start <= query_start <= start + COPY_SPACING
        and end - 2 * COPY_SPACING <= query_end < end
    )


def test_excerpts_of_a_stored_video_are_found_with_their_spans(cli, clips):
    [stored] = cli.json("intake", clips["first"], "--title", "Strike footage")
    results = cli.json("match", clips["trimmed"], clips["smaller"], clips["mirrored"])
    found = {Path(r["path"]).stem: r["matches"] for r in results}
    assert {name: [m["media_id"] for m in matches] for name, matches in found.items()} == {
        "trimmed": [stored["media_id"]],
        "smaller": [stored["media_id"]],
        "mirrored": [stored["media_id"]],
    }
    assert shows(spans_of(found["trimmed"][0]), 2, 0, 5), found["trimmed"]
    assert shows(spans_of(found["smaller"][0]), 1, 0, 6), found["smaller"]
    assert shows(spans_of(found["mirrored"][0]), 3, 0, 5), found["mirrored"]
    assert found["mirrored"][0]["method"] == "phash-mirror"
    line = cli("match", clips["trimmed"]).stdout.splitlines()[1]
    start, end, here_start, here_end = (round(t) for t in spans_of(found["trimmed"][0]))
    assert (
        f"video {stored['media_id']} 0:0{start}-0:0{end} (here 0:0{here_start}-0:0{here_end})"
    ) in line


def test_a_compilation_finds_each_stored_video_with_its_span(cli, clips):
    ids = [cli.json("intake", clips[name])[0]["media_id"] for name in ("first", "second", "third")]
    [result] = cli.json("match", clips["compilation"])
    spans = {m["media_id"]: spans_of(m) for m in result["matches"]}
    assert sorted(spans) == sorted(ids)
    first, second, third = (spans[i] for i in ids)
    # 4 s of each, one after the other: 1-5 s of the first, 3-7 s of the second, 0-4 s of
    # the third.
    assert shows(first, 1, 0, 4), spans
    assert shows(second, 3, 4, 8), spans
    assert shows(third, 0, 8, 12), spans


def test_intake_of_an_excerpt_records_and_shows_its_span(cli, clips):
    [stored] = cli.json("intake", clips["first"], "--title", "Strike footage")
    [seen] = cli.json("match", clips["mirrored"])[0]["matches"]
    line = cli("intake", clips["mirrored"]).stdout
    start, end, here_start, here_end = (round(t) for t in spans_of(seen))
    assert line.endswith(
        f"  excerpt of 0:0{start}-0:0{end} of {stored['case_id']} (Unverified), mirrored\n"
    )
    copy_case = line.split()[1]
    [media] = cli.json("show", copy_case)["media"]
    [recorded] = media["seen_before"]
    assert spans_of(recorded) == spans_of(seen)
    assert (recorded["media_id"], recorded["method"]) == (stored["media_id"], "phash-mirror")
    shown = cli("show", copy_case).stdout
    assert (
        f"media {stored['media_id']} 0:0{start}-0:0{end} (here 0:0{here_start}-0:0{here_end}) "
        "(phash-mirror"
    ) in shown


def test_photos_have_no_span(cli, clips, tmp_path):
    [video] = cli.json("intake", clips["first"])
    with av.open(str(clips["first"])) as container:
        frame = next(container.decode(video=0))
    still = tmp_path / "still.png"
    frame.to_image().save(still)
    [result] = cli.json("match", still)
    [found] = result["matches"]
    assert found["media_id"] == video["media_id"]
    assert spans_of(found) == (None, None, None, None)
