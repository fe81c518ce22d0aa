"""Migration 0008: fingerprint rows found by their picture, on both databases."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import inspect, text

from mediacheck.store import fingerprints
from tests.reshare import TRANSFORMS
from tests.test_matching import _scene
from tests.test_migrations import migrate

INDEX = "ix_fingerprints_picture"


def indexes(store) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in inspect(store.engine).get_indexes("fingerprints")}


def test_0008_indexes_a_pictures_rows_and_downgrade_drops_it(cli, store, tmp_path):
    """Built on a store of 0007, the index serves the next intake's keypoint check."""
    scene = _scene(5)
    scene.save(tmp_path / "a.png")
    TRANSFORMS["crop"](scene, random.Random(0)).save(tmp_path / "b.jpg")
    [item] = cli.json("intake", tmp_path / "a.png")
    migrate(store, "0007", down=True)
    assert INDEX not in indexes(store)
    migrate(store, "head")
    assert indexes(store)[INDEX] == ["media_id", "kind", "frame_time_s"]
    [again] = cli.json("intake", tmp_path / "b.jpg", "--new-case")
    [seen] = cli.json("show", again["case_id"])["media"][0]["seen_before"]
    assert (seen["media_id"], seen["method"]) == (item["media_id"], "keypoints")


def test_a_pictures_keypoints_are_read_through_the_index(store, tmp_path):
    """SQLite's plan for the search's read of a short-listed picture's keypoints: one seek
    by media, kind and frame time, not a scan of every row of the media."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's plan for a table this small is a scan, whatever its indexes")
    with store.session() as session:
        query = fingerprints.sibling_query([1, 2], "orb-v1")
        compiled = query.compile(store.engine, compile_kwargs={"literal_binds": True})
        plan = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    steps = " / ".join(row[-1] for row in plan)
    assert f"USING INDEX {INDEX} (media_id=? AND kind=? AND frame_time_s=?)" in steps, steps
