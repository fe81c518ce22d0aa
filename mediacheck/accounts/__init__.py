"""Accounts: who may act on the desk, proven by a password, an API token or the database session.

``roles`` says which role may take which action; ``service`` adds and changes accounts,
checks passwords (argon2id) and tokens (SHA-256 of a random secret) and throttles
repeated failed logins. The store keeps the rows (``store/accounts.py``).
"""
