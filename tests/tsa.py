"""A real RFC 3161 time-stamping authority on 127.0.0.1: OpenSSL's ``ts -reply`` per request.

``make_authority`` makes a CA and a TSA certificate it signs (``extendedKeyUsage =
critical,timeStamping``) with the ``openssl`` command, and the ``openssl ts`` config
that signs with them. ``tsa_server`` answers time-stamp queries over HTTP on a free
port, one authority per path (``/tsa``, ``/rogue``, ...), and misbehaves on purpose
at ``/http500`` (an error status), ``/garbage`` (a reply that is no token) and
``/replay`` (a genuine token of another digest, whatever is asked).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OPENSSL = shutil.which("openssl")
OPENSSL_TIMEOUT_S = 60

TSA_CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""
TSA_EXTENSIONS = (
    "basicConstraints=CA:false\n"
    "keyUsage=critical,digitalSignature\n"
    "extendedKeyUsage=critical,timeStamping\n"
)


@dataclass(frozen=True)
class Authority:
    folder: Path
    ca: Path  # the CA certificate (PEM): the trust anchor a desk configures
    config: Path  # the `openssl ts` config that signs with the TSA certificate

    def reply(self, query: bytes) -> bytes:
        """``openssl ts -reply`` to one DER query."""
        with tempfile.TemporaryDirectory(dir=self.folder) as tmp:
            query_file, reply_file = Path(tmp) / "query.tsq", Path(tmp) / "reply.tsr"
            query_file.write_bytes(query)
            _openssl(
                "ts", "-reply", "-config", self.config, "-queryfile", query_file,
                "-out", reply_file,
            )  # fmt: skip
            return reply_file.read_bytes()


def _openssl(*args: object, cwd: Path | None = None) -> None:
    assert OPENSSL is not None
    subprocess.run(
        [OPENSSL, *map(str, args)],
        check=True,
        capture_output=True,
        cwd=cwd,
        timeout=OPENSSL_TIMEOUT_S,
    )


def _query(folder: Path, digest: str) -> bytes:
    out = folder / "stale.tsq"
    _openssl("ts", "-query", "-digest", digest, "-sha256", "-cert", "-out", out)
    return out.read_bytes()


def make_authority(folder: Path, name: str) -> Authority:
    """A CA named ``name`` and a time-stamping certificate it signed, in ``folder``."""
    folder.mkdir(parents=True)
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
        "-days", "3650", "-subj", f"/CN={name} Root CA",
        "-addext", "basicConstraints=critical,CA:true",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    (folder / "tsa.ext").write_text(TSA_EXTENSIONS)
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", folder / "tsa.key",
        "-out", folder / "tsa.csr", "-subj", f"/CN={name} TSA",
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", folder / "tsa.csr", "-CA", ca, "-CAkey", ca_key,
        "-set_serial", "2", "-days", "3650", "-extfile", folder / "tsa.ext",
        "-out", folder / "tsa.pem",
    )  # fmt: skip
    (folder / "serial").write_text("01\n")
    config = folder / "ts.cnf"
    config.write_text(TSA_CONFIG.format(dir=folder))
    return Authority(folder, ca, config)


@dataclass(frozen=True)
class TsaServer:
    base: str  # http://127.0.0.1:PORT
    trusted: Authority
    rogue: Authority

    @property
    def url(self) -> str:
        return f"{self.base}/tsa"


@contextmanager
def tsa_server(folder: Path) -> Iterator[TsaServer]:
    """Two authorities (the desk's and a rogue one) served until the block ends."""
    trusted = make_authority(folder / "trusted", "Desk Test")
    rogue = make_authority(folder / "rogue", "Rogue Test")
    lock = threading.Lock()
    # A genuine token of another digest: what a TSA replaying old answers sends.
    stale = trusted.reply(_query(folder, "00" * 32))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/http500":
                self._send(500, b"the signing key is offline")
                return
            if self.path == "/garbage":
                self._send(200, b"<html>this is not a time-stamp</html>")
                return
            if self.path == "/replay":
                self._send(200, stale)
                return
            authority = rogue if self.path == "/rogue" else trusted
            with lock:  # openssl ts keeps its serial number in one file
                reply = authority.reply(query)
            self._send(200, reply)

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield TsaServer(f"http://127.0.0.1:{server.server_address[1]}", trusted, rogue)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def refused_url() -> str:
    """An address on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"
