"""RFC 3161: ask a time-stamping authority (TSA) to sign a SHA-256 digest; check its tokens.

The request (built with asn1crypto) carries the digest itself as its message
imprint, so a token can also be checked by hand with ``openssl ts -verify -digest``.
The reply is parsed, and a token's signature and certificate chain verified, by
rfc3161-client against the desk's trust anchors, as of the token's own genTime
(a TSA certificate that expired since still proves what it signed while valid).
Everything a TSA sends is hostile: a reply that is not a granted token for this
digest and this request's nonce is refused.
"""

from __future__ import annotations

import http.client
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from urllib.parse import urlsplit

import rfc3161_client
from asn1crypto import cms, tsp
from cryptography import x509

from mediacheck import __version__
from mediacheck.errors import TimestampError

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
TIMEOUT_S = 15.0  # to connect, and again to read the reply
MAX_REPLY_BYTES = 1024**2  # a token with its certificates is a few kilobytes
SHA256_OID = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")
PARSE_ERRORS = (ValueError, TypeError, OverflowError)


@dataclass(frozen=True)
class Token:
    """A TimeStampToken (CMS SignedData, DER) and what it says."""

    der: bytes
    digest: str  # the SHA-256 it covers, hex
    gen_time: str  # when the TSA signed it, ISO 8601 UTC


def request_token(
    url: str, sha256_hex: str, anchors: list[x509.Certificate] | None, timeout: float = TIMEOUT_S
) -> Token:
    """A token for ``sha256_hex`` from the TSA at ``url``; TimestampError if it gives none.

    With ``anchors`` the token's signature and chain are verified before it is accepted.
    """
    digest = _digest_bytes(sha256_hex)
    nonce = secrets.randbits(63)
    query = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()
    reply = _post(url, query, timeout)
    try:
        return _accept(reply, digest, nonce, anchors)
    except TimestampError as exc:
        raise TimestampError(f"{url}: {exc}") from exc


def read_token(der: bytes) -> Token:
    """What a stored token says, without checking its signature; TimestampError if malformed."""
    response = _decode(_as_response(der))
    return _facts(response, der)


def verify_token(der: bytes, sha256_hex: str, anchors: list[x509.Certificate]) -> Token:
    """The token, once it is proven to cover ``sha256_hex`` under one of ``anchors``."""
    response = _decode(_as_response(der))
    token = _facts(response, der)
    _verify(response, _digest_bytes(sha256_hex), anchors, nonce=None)
    return token


def load_anchors(path: str) -> list[x509.Certificate]:
    """The certificates of a PEM file: every one is a trust anchor for tokens."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TimestampError(f"MEDIACHECK_TSA_CA {path}: {exc.strerror or exc}") from exc
    try:
        anchors = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise TimestampError(f"MEDIACHECK_TSA_CA {path}: not a PEM certificate file") from exc
    return anchors


def _digest_bytes(sha256_hex: str) -> bytes:
    try:
        digest = bytes.fromhex(sha256_hex)
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise TimestampError(f"{sha256_hex[:80]!r} is not a SHA-256 digest in hex")
    return digest


def _post(url: str, query: bytes, timeout: float) -> bytes:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise TimestampError(f"MEDIACHECK_TSA_URL {url!r} is not an http(s) URL")
    request = urllib.request.Request(
        url,
        data=query,
        method="POST",
        headers={
            "Content-Type": QUERY_TYPE,
            "Accept": REPLY_TYPE,
            "User-Agent": f"mediacheck/{__version__}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            body = reply.read(MAX_REPLY_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise TimestampError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise TimestampError(f"{url}: {_reason(exc.reason)}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise TimestampError(f"{url}: {_reason(exc)}") from exc
    if len(body) > MAX_REPLY_BYTES:
        raise TimestampError(f"{url}: the reply is larger than {MAX_REPLY_BYTES} bytes")
    return body


def _reason(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _accept(
    reply: bytes, digest: bytes, nonce: int, anchors: list[x509.Certificate] | None
) -> Token:
    response = _decode(reply)
    status = rfc3161_client.PKIStatus(response.status)
    if status != rfc3161_client.PKIStatus.GRANTED:
        raise TimestampError(f"the TSA did not grant a token (status {status.name.lower()})")
    token = _facts(response, response.time_stamp_token())
    if token.digest != digest.hex():
        raise TimestampError("the token covers another digest than the one asked for")
    if response.tst_info.nonce != nonce:
        raise TimestampError("the reply's nonce is not the request's: a replayed reply")
    if anchors:
        _verify(response, digest, anchors, nonce)
    return token


def _decode(reply: bytes) -> rfc3161_client.TimeStampResponse:
    try:
        return rfc3161_client.decode_timestamp_response(reply)
    except PARSE_ERRORS as exc:
        raise TimestampError(f"not an RFC 3161 time-stamp reply ({_first_line(exc)})") from exc


def _as_response(der: bytes) -> bytes:
    """A stored token wrapped as a granted reply: the form rfc3161-client reads."""
    try:
        content = cms.ContentInfo.load(der)
        return tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": content}
        ).dump()
    except PARSE_ERRORS as exc:
        raise TimestampError(f"not an RFC 3161 time-stamp token ({_first_line(exc)})") from exc


def _facts(response: rfc3161_client.TimeStampResponse, der: bytes) -> Token:
    try:
        info = response.tst_info
        imprint = info.message_imprint
        algorithm, message, gen_time = imprint.hash_algorithm, imprint.message, info.gen_time
    except PARSE_ERRORS as exc:
        raise TimestampError(f"not an RFC 3161 time-stamp token ({_first_line(exc)})") from exc
    if algorithm != SHA256_OID:
        raise TimestampError(f"the token's digest is not SHA-256 ({algorithm.dotted_string})")
    stamped = gen_time.astimezone(UTC).isoformat()
    return Token(der=der, digest=message.hex(), gen_time=stamped)


def _verify(
    response: rfc3161_client.TimeStampResponse,
    digest: bytes,
    anchors: list[x509.Certificate],
    nonce: int | None,
) -> None:
    builder = rfc3161_client.VerifierBuilder(roots=list(anchors), nonce=nonce)
    try:
        builder.build().verify(response, digest)
    except rfc3161_client.VerificationError as exc:
        raise TimestampError(f"the token does not verify: {_first_line(exc)}") from exc
    except PARSE_ERRORS as exc:
        raise TimestampError(f"the token cannot be checked: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]
