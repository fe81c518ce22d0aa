"""The report's first minute: the history as sentences and the summary of a case."""

from __future__ import annotations

from mediacheck.publish import narrative, overview

MEDIA = "3fa2c1d09b8e7f66"


def _event(seq: int, action: str, details, user: str = "alice", at: str | None = None) -> dict:
    return {
        "seq": seq,
        "at": at or f"2026-01-03T12:04:{seq:02d}.250000+00:00",
        "user": user,
        "action": action,
        "details": details,
    }


def test_every_kind_of_event_reads_as_a_sentence_with_its_time_to_the_second():
    history = [
        _event(1, "case-created", {"title": "Hit by two missiles", "tags": []}),
        _event(
            2,
            "media-added",
            {
                "media_id": MEDIA,
                "original_name": "strike.jpg",
                "kind": "image",
                "mime": "image/jpeg",
            },
        ),
        _event(3, "seen-before", {"media_id": MEDIA, "matches": [{"case_id": "MC-2026-0002"}]}),
        _event(4, "note-added", {"note_id": 1, "text": "2019 article", "engine": "tineye"}),
        _event(
            5,
            "verdict-proposed",
            {"verdict_id": 1, "rating": "DecontextualizedContent", "rationale": "From 2019"},
        ),
        _event(6, "verdict-approved", {"verdict_id": 1, "rating": "DecontextualizedContent"}),
        _event(
            7, "verdict-rejected", {"rating": "StagedContent", "reason": "No", "media_id": MEDIA}
        ),
        _event(8, "status-changed", {"from": "open", "to": "closed"}, user="bob"),
        _event(9, "tags-changed", {"added": ["missile"], "removed": ["x"], "tags": ["missile"]}),
        _event(10, "analyze", {"findings": {MEDIA: 3, "ab": 1}}),
        _event(11, "case-imported", {"bundle": "case.zip", "events_imported": 9}),
        _event(12, "something-new", {"k": [1, 2]}),
        _event(13, "note-added", "not JSON any more", at="yesterday"),
        _event(14, "case-created", {}, at="2026-01-04T01:00:00+02:00"),
    ]

    said = [(s.day, s.time, s.text) for s in narrative.sentences(history)]

    day = "2026-01-03"
    assert said == [
        (day, "12:04:01", "alice opened the case “Hit by two missiles”"),
        (day, "12:04:02", "alice added media 3fa2c1d0… (strike.jpg), image image/jpeg"),
        (day, "12:04:03", "alice found media 3fa2c1d0… seen before in MC-2026-0002"),
        (day, "12:04:04", "alice noted (tineye): 2019 article"),
        (day, "12:04:05", "alice proposed DecontextualizedContent: From 2019"),
        (day, "12:04:06", "alice approved DecontextualizedContent"),
        (day, "12:04:07", "alice rejected StagedContent for media 3fa2c1d0…: No"),
        (day, "12:04:08", "bob changed the status from “open” to “closed”"),
        (day, "12:04:09", "alice tagged missile and untagged x"),
        (day, "12:04:10", "alice ran the forensic checks again: 4 findings on 2 items"),
        (day, "12:04:11", "alice imported the case from “case.zip” (9 events)"),
        (day, "12:04:12", 'alice something-new: {"k":[1,2]}'),
        ("", "yesterday", "alice note-added: not JSON any more"),
        ("2026-01-03", "23:00:00", "alice opened the case"),  # told in UTC
    ]


def test_the_summary_counts_items_cases_and_verdicts():
    seen = {"method": "sha256", "media_id": "m9"}
    doc = {
        "case_id": "MC-2026-0005",
        "final_verdict": "Unverified",
        "integrity": {"ok": True, "problems": []},
        "media": [
            {
                "media_id": "a",
                "kind": "image",
                "seen_before": [
                    {**seen, "case_id": "MC-2026-0002", "case_title": "Strike", "verdict": "X"},
                    {**seen, "case_id": "MC-2026-0001", "case_title": None, "verdict": "Y"},
                ],
            },
            {
                "media_id": "b",
                "kind": "video",
                "seen_before": [{**seen, "case_id": "MC-2026-0002", "verdict": "X"}],
            },
            # A match inside the case itself is no sighting.
            {"media_id": "c", "kind": "image", "seen_before": [{"case_id": "MC-2026-0005"}]},
        ],
    }

    summary = overview.summarise(doc, untrusted={"MC-2026-0001"})

    assert (summary.items, summary.pictures, summary.videos, summary.seen_before) == (3, 2, 1, 2)
    assert summary.kinds == "2 pictures, 1 video"
    assert overview.Summary(items=2, pictures=1, videos=0, seen_before=0).kinds == (
        "1 picture, 1 other file"
    )
    assert summary.earlier_cases == [
        overview.EarlierCase("MC-2026-0001", None, "Unverifiable", 1),
        overview.EarlierCase("MC-2026-0002", "Strike", "X", 2),
    ]
    assert (summary.verdict, summary.integrity_ok, summary.problems) == ("Unverified", True, [])
    broken = {"ok": False, "problems": [{"message": "original a was altered"}]}
    failed = overview.summarise(doc | {"integrity": broken, "final_verdict": "StagedContent"})
    assert (failed.verdict_label, failed.problems) == ("Unverifiable", ["original a was altered"])
    assert overview.verdict_label("StagedContent") == "StagedContent, approved"
