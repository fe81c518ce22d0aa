"""A case's history as sentences an editor reads: "12:04:31 alice proposed ... for media 3fa2…".

Each event becomes one line of plain text, its time to the second (UTC) and the
day it falls on; the reports escape the text like every other value. An event
this module does not know (a newer mediacheck, a hand-edited row) is still
shown, by its action and details, never dropped: the history is evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mediacheck.history.chain import canonical_json

SHORT_ID = 8  # characters of a media id: enough to tell a case's items apart


@dataclass(frozen=True)
class Sentence:
    day: str  # 2026-01-03, or "" when the time cannot be read
    time: str  # 12:04:31, or the recorded value as it is
    text: str
    seq: int


def sentences(history: list[dict[str, Any]]) -> list[Sentence]:
    """Every event of ``history`` (``history --json`` documents), oldest first."""
    return [_sentence(event) for event in history]


def _sentence(event: dict[str, Any]) -> Sentence:
    day, time = _when(event.get("at"))
    user = str(event.get("user") or "someone")
    action = str(event.get("action") or "")
    details = event.get("details")
    say = _SAYINGS.get(action)
    if isinstance(details, dict) and say is not None:
        text = f"{user} {say(details)}"
    elif action.endswith("-changed") and isinstance(details, dict):
        text = f"{user} {_changed(action.removesuffix('-changed'), details)}"
    else:
        text = f"{user} {action}: {_value(details)}"
    return Sentence(day, time, text, int(event.get("seq") or 0))


def _when(at: Any) -> tuple[str, str]:
    try:
        moment = datetime.fromisoformat(str(at))
    except ValueError:
        return "", str(at)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date().isoformat(), moment.strftime("%H:%M:%S")


def media(media_id: Any) -> str:
    """A media id as the sentences name it: its first characters."""
    text = str(media_id or "?")
    return f"media {text[:SHORT_ID]}…" if len(text) > SHORT_ID else f"media {text}"


def _value(value: Any) -> str:
    if value is None:
        return "nothing"
    return value if isinstance(value, str) else canonical_json(value)


def _quoted(value: Any) -> str:
    return "nothing" if value in (None, "", []) else f"“{_value(value)}”"


def _for_media(details: dict[str, Any]) -> str:
    return f" for {media(details['media_id'])}" if details.get("media_id") else ""


def _created(d: dict[str, Any]) -> str:
    return f"opened the case {_quoted(d['title'])}" if d.get("title") else "opened the case"


def _added(d: dict[str, Any]) -> str:
    name = f" ({d['original_name']})" if d.get("original_name") else ""
    kind = d.get("kind") or "media"
    return f"added {media(d.get('media_id'))}{name}, {kind} {d.get('mime') or ''}".rstrip()


def _seen(d: dict[str, Any]) -> str:
    matches = d.get("matches")
    listed = matches if isinstance(matches, list) else []
    where = sorted({str(m.get("case_id")) for m in listed if isinstance(m, dict)})
    found = f"in {', '.join(where)}" if where else "in the archive"
    return f"found {media(d.get('media_id'))} seen before {found}"


def _noted(d: dict[str, Any]) -> str:
    engine = f" ({d['engine']})" if d.get("engine") else ""
    about = f" on {media(d['media_id'])}" if d.get("media_id") else ""
    fixes = f", correcting note {d['corrects']}" if d.get("corrects") else ""
    return f"noted{engine}{about}{fixes}: {_value(d.get('text'))}"


def _proposed(d: dict[str, Any]) -> str:
    return f"proposed {_value(d.get('rating'))}{_for_media(d)}: {_value(d.get('rationale'))}"


def _approved(d: dict[str, Any]) -> str:
    comment = f": {_value(d['comment'])}" if d.get("comment") else ""
    return f"approved {_value(d.get('rating'))}{_for_media(d)}{comment}"


def _rejected(d: dict[str, Any]) -> str:
    return f"rejected {_value(d.get('rating'))}{_for_media(d)}: {_value(d.get('reason'))}"


def _analysed(d: dict[str, Any]) -> str:
    findings = d.get("findings")
    counts: dict[str, Any] = findings if isinstance(findings, dict) else {}
    total = sum(int(n) for n in counts.values() if isinstance(n, int))
    return f"ran the forensic checks again: {total} findings on {len(counts)} items"


def _imported(d: dict[str, Any]) -> str:
    return (
        f"imported the case from {_quoted(d.get('bundle'))} "
        f"({d.get('events_imported', '?')} events)"
    )


def _tags(d: dict[str, Any]) -> str:
    parts = []
    if d.get("added"):
        parts.append(f"tagged {_value(', '.join(map(str, d['added'])))}")
    if d.get("removed"):
        parts.append(f"untagged {_value(', '.join(map(str, d['removed'])))}")
    return " and ".join(parts) or "changed the tags"


def _changed(name: str, d: dict[str, Any]) -> str:
    what = name.replace("_", " ").replace("-", " ")
    return f"changed the {what} from {_quoted(d.get('from'))} to {_quoted(d.get('to'))}"


_SAYINGS: dict[str, Callable[[dict[str, Any]], str]] = {
    "case-created": _created,
    "media-added": _added,
    "seen-before": _seen,
    "note-added": _noted,
    "verdict-proposed": _proposed,
    "verdict-approved": _approved,
    "verdict-rejected": _rejected,
    "analyze": _analysed,
    "case-imported": _imported,
    "tags-changed": _tags,
}
