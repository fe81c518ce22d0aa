#!/usr/bin/env bash
# Fresh machine to first case: install mediacheck into .venv, take in the
# bundled sample pictures as one case in ./cases, show that case and write its
# HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
case_id=$(.venv/bin/mediacheck intake mediacheck/samples --one-case \
    --title "Sample: strike photo and its re-shares" \
    --claim "Two missiles hit the research institute's server building" \
    --source-url https://t.me/example_channel/1234 --platform telegram \
    --posted-at 2026-01-03T06:10:00Z --json |
    .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)[0]["case_id"])')
.venv/bin/mediacheck show "$case_id"
.venv/bin/mediacheck report "$case_id" --format html -o "cases/$case_id.html"
echo "HTML report: cases/$case_id.html"
