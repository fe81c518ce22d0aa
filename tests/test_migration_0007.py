"""Migration 0007: the span columns of seen_before, from 0003 and back, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect, text

from tests.media import photo
from tests.test_migrations import migrate

SPANS = ["stored_start_s", "stored_end_s", "query_start_s", "query_end_s"]


def columns(store) -> list[str]:
    return [c["name"] for c in inspect(store.engine).get_columns("seen_before")]


def test_0007_adds_null_spans_to_earlier_matches_and_downgrade_drops_them(cli, store, tmp_path):
    picture = photo(tmp_path / "a.png")
    [first] = cli.json("intake", picture)
    [again] = cli.json("intake", picture, "--new-case")
    migrate(store, "0003", down=True)
    assert not set(SPANS) & set(columns(store))
    with store.engine.connect() as conn:
        kept = conn.execute(text("SELECT media_id, matched_media_id FROM seen_before")).all()
    assert [tuple(row) for row in kept] == [(again["media_id"], first["media_id"])]
    migrate(store, "0007")
    assert columns(store)[-4:] == SPANS
    migrate(store, "head")  # the commands need the newest schema
    [seen] = cli.json("show", again["case_id"])["media"][0]["seen_before"]
    assert (seen["media_id"], seen["method"]) == (first["media_id"], "sha256")
    assert [seen[name] for name in SPANS] == [None] * 4
