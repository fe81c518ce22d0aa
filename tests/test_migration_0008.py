"""Migration 0008: fingerprint rows found by their picture, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect, text

from mediacheck.store import fingerprints
from tests.media import photo
from tests.test_migrations import migrate

INDEX = "ix_fingerprints_picture"


def indexes(store) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in inspect(store.engine).get_indexes("fingerprints")}


def test_0008_indexes_a_pictures_rows_and_downgrade_drops_it(cli, store, tmp_path):
    [item] = cli.json("intake", photo(tmp_path / "a.png"))
    migrate(store, "0007", down=True)
    assert INDEX not in indexes(store)
    migrate(store, "head")
    assert indexes(store)[INDEX] == ["media_id", "kind", "frame_time_s"]
    [again] = cli.json("intake", photo(tmp_path / "a.png"), "--new-case")
    [seen] = cli.json("show", again["case_id"])["media"][0]["seen_before"]
    assert seen["media_id"] == item["media_id"]


def test_a_pictures_keypoints_are_read_through_the_index(store, tmp_path):
    """SQLite's plan for the search's read of a short-listed picture's keypoints: one seek
    by media, kind and frame time, not a scan of every row of the media."""
    if store.engine.dialect.name != "sqlite":
        return
    with store.session() as session:
        query = fingerprints.sibling_query([1, 2], "orb-v1")
        compiled = query.compile(store.engine, compile_kwargs={"literal_binds": True})
        plan = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    steps = " / ".join(row[-1] for row in plan)
    assert f"USING INDEX {INDEX} (media_id=? AND kind=? AND frame_time_s=?)" in steps, steps
