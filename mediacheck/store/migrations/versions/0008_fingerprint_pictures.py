"""fingerprint rows found by their picture: media, kind and frame time

Created: 2026-12-04 20:00:00

The search reads the keypoints of each short-listed picture: the row of kind ``orb-v1``
of the same media and frame time. With only an index on ``media_id`` that read every row
of the media, a long video's hundreds of keyframes with their keypoints, for each
keyframe short-listed: 44 ms a read at 20,000 stored pictures, a third of the intake
process's time by then (docs/matching.md, "A picture's keypoints in one look-up").

Released migrations are never edited: change the schema with a new one.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_fingerprints_picture", "fingerprints", ["media_id", "kind", "frame_time_s"])


def downgrade() -> None:
    op.drop_index("ix_fingerprints_picture", table_name="fingerprints")
