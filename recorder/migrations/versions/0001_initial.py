"""The first schema: units, sessions, notes, events, teachers.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("unit_id", sa.String(64), primary_key=True),
        sa.Column("room", sa.String(128)),
        sa.Column("state", sa.String(16)),
        sa.Column("last_seen", sa.Float),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("units.unit_id", ondelete="CASCADE"), nullable=False),
        sa.Column("started", sa.Float, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("notes", sa.Integer, nullable=False),
        sa.Column("student", sa.String(64)),
        sa.Column("exercise", sa.String(128)),
        sa.Column("tempo", sa.Float),
        sa.Column("fingering_as_written", sa.Float),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.UniqueConstraint("unit_id", "started", name="sessions_unit_started"),
    )
    op.create_index("ix_sessions_unit_id", "sessions", ["unit_id"])
    op.create_index("ix_sessions_student", "sessions", ["student"])
    for name, extra in (("notes", [sa.Column("pitch", sa.Integer, nullable=False),
                                   sa.Column("hand", sa.String(8)),
                                   sa.Column("finger", sa.Integer),
                                   sa.Column("confidence", sa.Float),
                                   sa.Column("velocity", sa.Integer),
                                   sa.Column("verdict", sa.String(16))]),
                        ("events", [sa.Column("kind", sa.String(16), nullable=False)])):
        op.create_table(
            name,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("unit_id", sa.String(64), sa.ForeignKey("units.unit_id", ondelete="CASCADE"), nullable=False),
            sa.Column("seq", sa.Integer, nullable=False),
            sa.Column("t", sa.Float, nullable=False),
            sa.Column("received", sa.Float, nullable=False),
            *extra,
            sa.Column("body", sa.JSON, nullable=False),
            sa.UniqueConstraint("unit_id", "seq", "t", name=f"{name}_unit_seq"),
        )
        op.create_index(f"ix_{name}_t", name, ["t"])
    op.create_index("ix_events_kind", "events", ["kind"])
    op.create_table(
        "teachers",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    for name in ("teachers", "events", "notes", "sessions", "units"):
        op.drop_table(name)
