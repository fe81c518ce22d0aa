"""What a case and the archive can be written as: names only, cheap to import for --help."""

from __future__ import annotations

REPORT_FORMATS = ("html", "md", "json")  # reports.render; mediareview is publish.mediareview
ARCHIVE_FORMATS = ("jsonl", "csv")  # export.write_archive
