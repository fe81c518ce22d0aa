"""Write the next numbered migration: what the models have that the migrations do not build.

    python scripts/new_migration.py "add verdict comments"

Review the file it writes (Alembic cannot see renames) and run
tests/test_migrations.py. Released migrations are never edited.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from mediacheck.store import revisions as schema


def new_migration(message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.db")
        with engine.begin() as conn:
            config = schema.alembic_config(conn)
            number = len(list(ScriptDirectory.from_config(config).walk_revisions())) + 1
            command.upgrade(config, "head")
            script = command.revision(
                config, message=message, autogenerate=True, rev_id=f"{number:04d}"
            )
    _tidy(Path(script.path))


def _tidy(path: Path) -> None:
    """Drop Alembic's "please adjust" banners and format the file as the rest of the code."""
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for line in lines if "# ###" not in line))
    subprocess.run(["ruff", "format", "--quiet", str(path)], check=True)
    subprocess.run(["ruff", "check", "--fix", "--quiet", str(path)], check=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    new_migration(sys.argv[1])
