"""Queued intake: files uploaded to the blob store first, taken in by workers on any machine.

``intake --queue`` stores each file's bytes in the blob store (so a worker on
another machine can read them) and records one job per file in PostgreSQL
through procrastinate; ``mediacheck worker`` takes jobs and runs the same
intake as a local one. A job run again (after a crash) finds what it recorded:
the content address and the case link it made, so nothing is recorded twice.
"""
