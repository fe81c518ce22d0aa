from mediacheck.history import chain as history
from mediacheck.store.cases import CaseFields
from mediacheck.store.events import append_event


def _rows(store, case_id):
    return [e.model_dump() for e in store.events(case_id)]


def test_case_creation_starts_a_valid_chain(store):
    case = store.create_case(CaseFields(title="t"), "alice")
    events = store.events(case.id)
    assert [(e.seq, e.action, e.user) for e in events] == [(1, "case-created", "alice")]
    assert events[0].prev_hash == history.GENESIS
    assert history.verify_chain(case.id, _rows(store, case.id)) == []


def test_chain_detects_edit_delete_and_reorder(store):
    case = store.create_case(CaseFields(title="t"), "alice")
    for i in range(3):
        with store.session() as session:
            append_event(session, case.id, "bob", "note", {"n": i})
    rows = _rows(store, case.id)
    assert [r["seq"] for r in rows] == [1, 2, 3, 4]
    assert history.verify_chain(case.id, rows) == []

    edited = [dict(r) for r in rows]
    edited[1]["details"] = '{"n":99}'
    assert [str(p) for p in history.verify_chain(case.id, edited)] == [
        f"{case.id} event 2: content was changed after it was recorded"
    ]

    deleted = rows[:1] + rows[2:]
    problems = [str(p) for p in history.verify_chain(case.id, deleted)]
    assert problems == [
        f"{case.id} event 3: expected event 2: events are missing",
        f"{case.id} event 3: does not follow the previous event (deleted or edited)",
    ]


def test_case_ids_are_sequential_per_year(store):
    ids = [store.create_case(CaseFields(), "alice").id for _ in range(3)]
    year = ids[0].split("-")[1]
    assert ids == [f"MC-{year}-0001", f"MC-{year}-0002", f"MC-{year}-0003"]
