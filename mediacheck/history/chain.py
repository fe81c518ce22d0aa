"""The hash chain that makes a case's history tamper-evident.

Each event's hash covers its own content and the previous event's hash, so
editing, deleting or re-ordering any stored event breaks every later link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def now() -> str:
    """The current time as stored everywhere: ISO 8601, UTC, microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(
    *, case_id: str, seq: int, at: str, user: str, action: str, details: str, prev_hash: str
) -> str:
    content = canonical_json(
        {
            "case_id": case_id,
            "seq": seq,
            "at": at,
            "user": user,
            "action": action,
            "details": details,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    case_id: str
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"event {self.seq}" if self.seq is not None else "history"
        return f"{self.case_id} {where}: {self.problem}"


def verify_chain(case_id: str, events: Iterable[Mapping[str, Any]]) -> list[ChainProblem]:
    """Re-walk one case's events (ordered by seq) and name every broken link."""
    problems: list[ChainProblem] = []
    prev_hash = GENESIS
    expected_seq = 1
    for event in events:
        seq = event["seq"]
        if seq != expected_seq:
            problems.append(
                ChainProblem(case_id, seq, f"expected event {expected_seq}: events are missing")
            )
        if event["prev_hash"] != prev_hash:
            problems.append(
                ChainProblem(case_id, seq, "does not follow the previous event (deleted or edited)")
            )
        recomputed = event_hash(
            case_id=case_id,
            seq=seq,
            at=event["at"],
            user=event["user"],
            action=event["action"],
            details=event["details"],
            prev_hash=event["prev_hash"],
        )
        if recomputed != event["hash"]:
            problems.append(ChainProblem(case_id, seq, "content was changed after it was recorded"))
        prev_hash = event["hash"]
        expected_seq = seq + 1
    return problems
