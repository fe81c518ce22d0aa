"""Trusted time: RFC 3161 time-stamp tokens for history heads and captures."""
