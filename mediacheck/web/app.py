"""The ASGI app: one store for every request, sessions, security headers and error pages.

``create_app(settings)`` opens the store the settings name (as the CLI's commands do)
and mounts the page families of ``views/``, the JSON API of ``api`` and the vendored
static files. Every response carries a Content-Security-Policy that allows scripts
and styles from this server only: no inline script, no CDN.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from mediacheck import __version__, config
from mediacheck.errors import (
    AccountNotFound,
    AmbiguousMedia,
    AuthenticationFailed,
    CaseExists,
    CaseNotFound,
    ConcurrentUpdate,
    InputFileError,
    IntegrityError,
    InvalidValue,
    LoginThrottled,
    MediacheckError,
    MediaChoiceNeeded,
    MediaNotFound,
    NotPermitted,
    ReviewError,
    StoreError,
    UnsupportedMedia,
    VerdictNotFound,
)
from mediacheck.store.database import Store
from mediacheck.web import auth
from mediacheck.web.desk import Desk, desk_of, templates

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
# Domain errors to HTTP statuses; any other MediacheckError is the request's fault (400).
STATUS = {
    CaseNotFound: 404,
    VerdictNotFound: 404,
    MediaNotFound: 404,
    AccountNotFound: 404,
    LoginThrottled: 429,
    AuthenticationFailed: 401,
    auth.LoginRequired: 401,
    NotPermitted: 403,
    auth.CsrfRefused: 403,
    ReviewError: 409,
    ConcurrentUpdate: 409,
    CaseExists: 409,
    IntegrityError: 409,
    InvalidValue: 400,
    MediaChoiceNeeded: 400,
    AmbiguousMedia: 400,
    UnsupportedMedia: 400,
    InputFileError: 400,
    StoreError: 503,
}


def status_of(exc: MediacheckError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def create_app(settings: config.Settings, store: Store | None = None) -> FastAPI:
    """The web desk over the store ``settings`` name (or ``store``, already open)."""
    from mediacheck.web import api
    from mediacheck.web.views import actions, cases, files, pictures, session

    store = store or Store.open(settings, create=False)
    app = FastAPI(
        title="mediacheck",
        version=__version__,
        summary="The web desk's JSON API: cases, notes, four-eyes verdicts, intake and match.",
        docs_url=None,  # Swagger UI loads its scripts from a CDN: the schema is enough
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.desk = Desk(
        settings=settings,
        store=store,
        sessions=auth.Sessions(auth.web_secret(settings.store)),
        templates=templates(),
    )
    static = resources.files("mediacheck.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for module in (session, cases, actions, pictures, files):
        app.include_router(module.router)
    app.include_router(api.router)
    app.middleware("http")(_sessions_and_headers)
    app.add_exception_handler(MediacheckError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app


async def _sessions_and_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    desk = desk_of(request)
    found = desk.sessions.read(request)
    if _has_nul(request):
        request.state.session = found or auth.new_session()
        request.state.session_changed = False
        return error_response(request, 400, "the address holds a NUL character: no such page")
    request.state.session = found or auth.new_session()
    request.state.session_changed = found is None
    response = await call_next(request)
    if request.state.session_changed and not is_api(request):  # scripts hold no session
        desk.sessions.write(response, request, request.state.session)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _has_nul(request: Request) -> bool:
    """A NUL in the path or the query names nothing (and PostgreSQL refuses it in text)."""
    return "\x00" in request.url.path or any(
        "\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()
    )


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str) -> Response:
    """JSON ``{"error": ...}`` under /api, else the error page."""
    if is_api(request):
        return JSONResponse({"error": message}, status_code=status)
    if status == 401:
        return RedirectResponse(_login_url(request), status_code=303)
    return desk_of(request).templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": message, "user": getattr(request.state, "identity", None)},
        status_code=status,
    )


def _login_url(request: Request) -> str:
    from urllib.parse import quote

    wanted = request.url.path
    if request.method == "GET" and request.url.query:
        wanted += "?" + request.url.query
    return "/login?next=" + quote(wanted, safe="")


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MediacheckError)
    response = error_response(request, status_of(exc), str(exc))
    if isinstance(exc, LoginThrottled):
        response.headers["Retry-After"] = str(exc.retry_after)
    if status_of(exc) == 401 and is_api(request):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(request, 400, _validation_message(exc.errors()))


def _validation_message(errors: Any) -> str:
    parts = []
    for error in list(errors)[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    return error_response(request, status, message)


def from_environment() -> FastAPI:
    """The app for ``serve --workers N``: each worker opens the store the environment names."""
    return create_app(config.resolve())
