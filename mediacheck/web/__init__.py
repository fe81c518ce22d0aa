"""The web desk: team review in a browser over the same store and database as the CLI.

``app.create_app(settings)`` builds the ASGI app that ``mediacheck serve`` runs under
uvicorn. Like the CLI it only parses requests and renders answers: every route calls
the core function its command calls (intake, review, publish, match), and templates
only render. ``auth`` proves who is asking (a signed session cookie, or a Bearer
token) and every route states which role may call it. Nothing imports this package
but ``cli/serve.py``.
"""
