"""Intake from a link: safe fetching, WARC capture, extraction of a post and its media."""
