"""Content Credentials (C2PA): who signed the file, with what, and whether it still checks out."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import c2pa

from mediacheck.findings.base import INFO, WARNING, Finding, FindingContext

MAX_LIST = 50
MAX_TEXT = 300
# A file may point at a remote manifest or certificate status server: fetching
# them would tell whoever made the file that a desk is looking at it.
OFFLINE = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
# c2pa-python holds the whole asset in memory (about three times its size): a
# large file is handed to it only when its head or tail carries the JUMBF
# label of a C2PA store, where every embedding format puts it.
FULL_READ_LIMIT = 64 * 1024 * 1024
SCAN_BYTES = 16 * 1024 * 1024
C2PA_LABEL = b"c2pa"


def check_c2pa(ctx: FindingContext) -> list[Finding]:
    if ctx.mime not in c2pa.Reader.get_supported_mime_types() or not _may_hold_store(ctx.path):
        return []
    store = read_manifest_store(ctx)
    if store is None:
        return []
    summary = summarise(store)
    findings = [Finding("c2pa", INFO, _message(summary), summary)]
    if summary["validation_state"] == "Invalid":
        findings.append(_invalid(summary))
    return findings


def read_manifest_store(ctx: FindingContext) -> dict | None:
    """c2pa-python's reading of the file, offline; None without a manifest."""
    with open(ctx.path, "rb") as stream:
        reader = c2pa.Reader.try_create(ctx.mime, stream, context=_offline_context())
        if reader is None:
            return None
        try:
            return json.loads(reader.json())
        finally:
            reader.close()


def _may_hold_store(path: Path) -> bool:
    size = path.stat().st_size
    if size <= FULL_READ_LIMIT:
        return True
    with open(path, "rb") as fh:
        head = fh.read(SCAN_BYTES)
        fh.seek(max(0, size - SCAN_BYTES))
        tail = fh.read(SCAN_BYTES)
    return C2PA_LABEL in head or C2PA_LABEL in tail


@cache
def _offline_context() -> c2pa.Context:
    return c2pa.Context(settings=c2pa.Settings.from_dict(OFFLINE))


# A context made before a fork is "not valid" in the child (intake's worker processes).
os.register_at_fork(after_in_child=_offline_context.cache_clear)


def summarise(store: dict) -> dict[str, Any]:
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest")) or {}
    signature = active.get("signature_info") or {}
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    return {
        "validation_state": store.get("validation_state"),
        "failures": _codes(results.get("failure")),
        "signer": _text(signature.get("issuer")),
        "signer_common_name": _text(signature.get("common_name")),
        "signed_at": _text(signature.get("time")),
        "claim_generator": _claim_generator(active),
        "title": _text(active.get("title")),
        "actions": _actions(active),
        "ingredients": _ingredients(active),
        "manifest_count": len(manifests),
    }


def _message(summary: dict) -> str:
    state = summary["validation_state"]
    signer = summary["signer"] or "an unnamed signer"
    tool = summary["claim_generator"] or "an unnamed tool"
    text = f"The file carries Content Credentials (C2PA) signed by {signer}, made with {tool}. "
    if state in ("Valid", "Trusted"):
        text += (
            "The signature and the content hashes check out, so the file has not changed "
            "since it was signed. "
        )
    if state == "Valid":
        text += "The signing certificate is not on a trust list mediacheck knows. "
    text += (
        "Credentials record what the signer declares (actions, ingredients); they do not "
        "show that the scene is what the post claims."
    )
    return text


def _invalid(summary: dict) -> Finding:
    failures = [f for f in summary["failures"] if f != "signingCredential.untrusted"]
    message = (
        "The file's Content Credentials fail validation "
        f"({', '.join(failures) or 'see evidence'}): the file was changed after it was "
        "signed, or the signature is broken or expired. The declared history cannot be "
        "relied on, though an expired certificate alone does not mean the content changed."
    )
    evidence = {"validation_state": summary["validation_state"], "failures": summary["failures"]}
    return Finding("c2pa-invalid", WARNING, message, evidence)


def _codes(entries: Any) -> list[str | None]:
    if not isinstance(entries, list):
        return []
    return [_text(e.get("code")) for e in entries[:MAX_LIST] if isinstance(e, dict)]


def _claim_generator(manifest: dict) -> str | None:
    if manifest.get("claim_generator"):
        return _text(manifest["claim_generator"])
    info = manifest.get("claim_generator_info")
    if not isinstance(info, list):
        return None
    parts = [
        f"{i.get('name')}/{i['version']}" if i.get("version") else str(i.get("name"))
        for i in info
        if isinstance(i, dict) and i.get("name")
    ]
    return _text(" ".join(parts)) or None


def _actions(manifest: dict) -> list[dict]:
    actions = []
    for assertion in manifest.get("assertions") or []:
        label = assertion.get("label", "") if isinstance(assertion, dict) else ""
        if not str(label).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            if isinstance(action, dict):
                actions.append(
                    {
                        "action": _text(action.get("action")),
                        "software_agent": _agent(action.get("softwareAgent")),
                        "digital_source_type": _text(action.get("digitalSourceType")),
                    }
                )
    return actions[:MAX_LIST]


def _agent(value: Any) -> str | None:
    # Newer claims describe the agent as {"name": ..., "version": ...}.
    if isinstance(value, dict):
        return _text(" ".join(str(v) for v in (value.get("name"), value.get("version")) if v))
    return _text(value)


def _ingredients(manifest: dict) -> list[dict]:
    return [
        {
            "title": _text(i.get("title")),
            "relationship": _text(i.get("relationship")),
            "format": _text(i.get("format")),
            "has_credentials": bool(i.get("active_manifest")),
        }
        for i in (manifest.get("ingredients") or [])[:MAX_LIST]
        if isinstance(i, dict)
    ]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)[:MAX_TEXT]
