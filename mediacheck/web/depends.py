"""Who may call a route, as FastAPI dependencies: every route names one of these.

``page_user``: a page (GET) for any logged-in account. ``form_user``: a form post: a
logged-in account and the session's CSRF token, in that order (no session is a
redirect to /login, a wrong token a 403). ``api_user``: a Bearer token.
"""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from mediacheck.web import auth
from mediacheck.web.desk import desk_of


def page_user(request: Request) -> auth.Identity:
    identity = auth.browser_identity(desk_of(request).store, request)
    request.state.identity = identity
    return identity


async def form_user(request: Request) -> auth.Identity:
    identity = await run_in_threadpool(auth.browser_identity, desk_of(request).store, request)
    request.state.identity = identity
    form = await request.form()
    auth.check_csrf(request, form.get(auth.CSRF_FIELD))
    return identity


def api_user(request: Request) -> auth.Identity:
    identity = auth.bearer_identity(desk_of(request).store, request)
    request.state.identity = identity
    return identity


def render(request: Request, template: str, status: int = 200, **context):
    """A page: the template with the session's CSRF token and the account shown."""
    desk = desk_of(request)
    context.setdefault("user", getattr(request.state, "identity", None))
    context["csrf_token"] = auth.session_of(request).csrf
    return desk.templates.TemplateResponse(request, template, context, status_code=status)
