"""The WARC file of one link's capture: every HTTP exchange as it went over the wire.

Each request and its response become a ``request`` and a ``response`` record (warcio),
the response holding the bytes as received (mediacheck asks for no content encoding);
what the extractor said of the post becomes a ``metadata`` record. The one header
changed is a ``Cookie`` sent from ``--cookies``: its value is the user's login and is
never stored, so the request record says it was redacted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from mediacheck import __version__

WARC_NAME = "capture.warc.gz"
REDACTED = "[redacted: from --cookies, never stored]"


@dataclass(frozen=True)
class Exchange:
    """One request and its response, the body in a file."""

    url: str
    method: str
    target: str  # the request line's target: path and query
    request_headers: list[tuple[str, str]]
    protocol: str  # HTTP/1.1
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: Path
    size: int
    peer: str | None  # the address connected to
    at: str  # WARC-Date: when the response began


class WarcCapture:
    """A gzip WARC being written; ``close`` it before storing the file."""

    def __init__(self, path: Path):
        from warcio.warcwriter import WARCWriter

        self.path = path
        self._file: BinaryIO = open(path, "wb")
        self._writer = WARCWriter(self._file, gzip=True, warc_version="1.1")
        info = {"software": f"mediacheck/{__version__}", "format": "WARC File Format 1.1"}
        self._writer.write_record(self._writer.create_warcinfo_record(WARC_NAME, info))
        self.records = 1

    def exchange(self, exchange: Exchange) -> None:
        from warcio.statusandheaders import StatusAndHeaders

        writer = self._writer
        sent = StatusAndHeaders(
            f"{exchange.method} {exchange.target} {exchange.protocol}",
            [_redacted(name, value) for name, value in exchange.request_headers],
            is_http_request=True,
        )
        common = {"WARC-Date": exchange.at}
        if exchange.peer:
            common["WARC-IP-Address"] = exchange.peer
        request = writer.create_warc_record(
            exchange.url, "request", payload=BytesIO(), length=0, http_headers=sent,
            warc_headers_dict=dict(common),
        )  # fmt: skip
        received = StatusAndHeaders(
            f"{exchange.status} {exchange.reason}".strip(),
            exchange.response_headers,
            protocol=exchange.protocol,
        )
        with open(exchange.body, "rb") as body:
            response = writer.create_warc_record(
                exchange.url, "response", payload=body, length=exchange.size,
                http_headers=received, warc_headers_dict=dict(common),
            )  # fmt: skip
            writer.write_request_response_pair(request, response)
        self.records += 2

    def metadata(self, url: str, document: dict[str, Any]) -> None:
        data = json.dumps(document, ensure_ascii=False, sort_keys=True, default=str).encode()
        record = self._writer.create_warc_record(
            url, "metadata", payload=BytesIO(data), length=len(data),
            warc_content_type="application/json",
        )  # fmt: skip
        self._writer.write_record(record)
        self.records += 1

    def close(self) -> None:
        self._file.close()


def _redacted(name: str, value: str) -> tuple[str, str]:
    return (name, REDACTED) if name.lower() == "cookie" else (name, value)


def warc_records(stream: BinaryIO) -> Iterator[tuple[str, str | None]]:
    """(WARC-Type, WARC-Target-URI) of every record, each read to its end.

    Raises ``warcio``'s or zlib's errors on a WARC that does not parse: ``verify`` names them.
    """
    from warcio.archiveiterator import ArchiveIterator

    for record in ArchiveIterator(stream, check_digests="raise"):
        while record.raw_stream.read(1024 * 1024):
            pass
        yield record.rec_type, record.rec_headers.get_header("WARC-Target-URI")
