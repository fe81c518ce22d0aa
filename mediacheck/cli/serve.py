"""serve: the web desk over the same store and database, under uvicorn."""

from __future__ import annotations

import click

from mediacheck.cli.options import store_options
from mediacheck.cli.output import console, note_line, text


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Server processes (several need PostgreSQL or one machine's SQLite: docs/web.md).",
)
@click.option(
    "--proxy-headers",
    is_flag=True,
    help="Trust X-Forwarded-Proto and -For from a reverse proxy on this host (docs/web.md).",
)
@store_options
def serve(host, port, workers, proxy_headers, settings):
    """Serve the web desk: cases, review and intake in a browser, and the JSON API.

    Everyone logs in with an account of `mediacheck user add`; scripts send an
    API token of `mediacheck user token` as `Authorization: Bearer TOKEN`.
    Listens on the loopback address unless --host says otherwise: put a TLS
    reverse proxy in front of it for a desk (docs/web.md).

    \b
    Example:
        mediacheck serve
        mediacheck serve --port 9000 --workers 4 --proxy-headers
    """
    import os

    # Intake from the browser forks worker processes from this server. OpenBLAS's thread
    # pool does not survive a fork (a forked worker can spin forever in a matrix product),
    # so the server keeps BLAS on one thread; it must be set before NumPy loads.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import uvicorn

    from mediacheck.accounts import service as accounts
    from mediacheck.cli.options import open_store

    store = open_store(settings)  # a missing store fails here, in one line
    if not accounts.has_accounts(store):
        note_line("no account can log in yet: add one with `mediacheck user add NAME --role ROLE`")
    store.engine.dispose()
    console.print(f"mediacheck web desk on http://{text(host)}:{port} (Ctrl-C stops it)")
    if workers == 1:
        from mediacheck.web.app import create_app

        app = create_app(settings)
        uvicorn.run(app, host=host, port=port, proxy_headers=proxy_headers, log_level="warning")
        return
    _serve_workers(settings, host, port, workers, proxy_headers)


def _serve_workers(settings, host, port, workers, proxy_headers) -> None:
    """Several processes need an import string: the app factory reads the settings back."""
    import os

    import uvicorn

    os.environ.update(
        {
            "MEDIACHECK_HOME": str(settings.store),
            "MEDIACHECK_DATABASE_URL": settings.db_url,
            "MEDIACHECK_DESK": settings.desk,
            "MEDIACHECK_BLOBS": settings.blobs,
        }
    )
    uvicorn.run(
        "mediacheck.web.app:from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=proxy_headers,
        log_level="warning",
    )


COMMANDS = [serve]
