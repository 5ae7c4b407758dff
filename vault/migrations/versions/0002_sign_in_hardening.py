"""sign-in hardening: throttle reservations, failed sign-in bursts, session deadlines, indexes at scale

Sessions and throttle counters are short-lived state: they are emptied rather than converted (everyone
signs in again once after the upgrade; no counter outlives a day anyway).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 18:22:20
"""

from alembic import op
import sqlalchemy as sa
import vault.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('failed_sign_in_bursts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('started_at', vault.models.UTCDateTime(), nullable=False),
    sa.Column('last_at', vault.models.UTCDateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_failed_sign_in_bursts_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_sign_in_bursts'))
    )
    with op.batch_alter_table('failed_sign_in_bursts', schema=None) as batch_op:
        batch_op.create_index('ix_failed_sign_in_bursts_account_last', ['account_id', 'last_at'], unique=False)

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_deposited_by_id'), ['deposited_by_id'], unique=False)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_subject_at')
        batch_op.create_index('ix_events_subject_id', ['subject_id', 'id'], unique=False)

    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_version', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.alter_column('key_version', server_default=None)

    op.execute('DELETE FROM sessions')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idle_until', vault.models.UTCDateTime(), nullable=False))
        batch_op.add_column(sa.Column('pending_second_factor', sa.Boolean(), nullable=False))
        batch_op.create_index(batch_op.f('ix_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_idle_until'), ['idle_until'], unique=False)
        batch_op.drop_column('last_seen_at')

    op.execute('DELETE FROM throttles')
    with op.batch_alter_table('throttles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('count', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('last_attempt_at', vault.models.UTCDateTime(), nullable=False))
        batch_op.drop_column('last_failure_at')
        batch_op.drop_column('failures')


def downgrade() -> None:
    op.execute('DELETE FROM throttles')
    with op.batch_alter_table('throttles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failures', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('last_failure_at', vault.models.UTCDateTime(), nullable=False))
        batch_op.drop_column('last_attempt_at')
        batch_op.drop_column('count')

    op.execute('DELETE FROM sessions')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', vault.models.UTCDateTime(), nullable=False))
        batch_op.drop_index(batch_op.f('ix_sessions_idle_until'))
        batch_op.drop_index(batch_op.f('ix_sessions_expires_at'))
        batch_op.drop_column('pending_second_factor')
        batch_op.drop_column('idle_until')

    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_column('key_version')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_subject_id')
        batch_op.create_index('ix_events_subject_at', ['subject_id', 'at'], unique=False)

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_deposited_by_id'))

    with op.batch_alter_table('failed_sign_in_bursts', schema=None) as batch_op:
        batch_op.drop_index('ix_failed_sign_in_bursts_account_last')

    op.drop_table('failed_sign_in_bursts')
