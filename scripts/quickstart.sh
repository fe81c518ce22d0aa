#!/usr/bin/env bash
# Fresh machine to first case: install mediacheck into .venv, take in the
# bundled strike photo as an archive case in ./cases, then its re-share and an
# unrelated picture as a new case, show that case (the re-share is seen before
# in the archive case) and write its HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
first_case() { .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)[0]["case_id"])'; }
.venv/bin/mediacheck intake mediacheck/samples/strike.jpg \
    --title "Sample: the strike photo as first published" --json >/dev/null
# --new-case: run again, the script makes a new case rather than finding the files stored.
case_id=$(.venv/bin/mediacheck intake mediacheck/samples/reshared.jpg \
    mediacheck/samples/unrelated.png --one-case --new-case \
    --title "Sample: a re-share of the strike photo" \
    --claim "Two missiles hit the research institute's server building" \
    --source-url https://t.me/example_channel/1234 --platform telegram \
    --posted-at 2026-01-03T06:10:00Z --json | first_case)
.venv/bin/mediacheck show "$case_id"
.venv/bin/mediacheck report "$case_id" --format html -o "cases/$case_id.html"
echo "HTML report: cases/$case_id.html"
