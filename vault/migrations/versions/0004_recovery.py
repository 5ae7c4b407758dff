"""recovery and the life of an account: assisted recovery, closed vaults, last sign-in

The organisation's recovery key sealed to each admin, the people's opt-in seals and the recoveries in
person; what a worker keeps of a share whose vault was closed; the last full sign-in (retention) and the
notice shown after a recovery. A deposit's worker may now be deleted (the paper stays).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 01:01:29
"""

from alembic import op
import sqlalchemy as sa
import vault.models


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assisted_recoveries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('started_by_id', sa.String(length=36), nullable=True),
    sa.Column('confirmed_by_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', vault.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', vault.models.UTCDateTime(), nullable=False),
    sa.Column('confirmed_at', vault.models.UTCDateTime(), nullable=True),
    sa.Column('completed_at', vault.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['accounts.id'], name=op.f('fk_assisted_recoveries_confirmed_by_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_assisted_recoveries_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['accounts.id'], name=op.f('fk_assisted_recoveries_person_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['accounts.id'], name=op.f('fk_assisted_recoveries_started_by_id_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assisted_recoveries'))
    )
    with op.batch_alter_table('assisted_recoveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assisted_recoveries_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assisted_recoveries_person_id'), ['person_id'], unique=False)

    op.create_table('assisted_recovery_seals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('public_key', sa.String(length=100), nullable=False),
    sa.Column('sealed_identity', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', vault.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_assisted_recovery_seals_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['accounts.id'], name=op.f('fk_assisted_recovery_seals_person_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assisted_recovery_seals')),
    sa.UniqueConstraint('person_id', 'organisation_id', name=op.f('uq_assisted_recovery_seals_person_id'))
    )
    with op.batch_alter_table('assisted_recovery_seals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assisted_recovery_seals_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assisted_recovery_seals_person_id'), ['person_id'], unique=False)

    op.create_table('closed_shares',
    sa.Column('share_id', sa.String(length=36), nullable=False),
    sa.Column('grantee_id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=True),
    sa.Column('purpose_code', sa.String(length=40), nullable=False),
    sa.Column('granted_at', vault.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', vault.models.UTCDateTime(), nullable=False),
    sa.Column('closed_at', vault.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['grantee_id'], ['accounts.id'], name=op.f('fk_closed_shares_grantee_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_closed_shares_organisation_id_organisations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('share_id', name=op.f('pk_closed_shares'))
    )
    with op.batch_alter_table('closed_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closed_shares_grantee_id'), ['grantee_id'], unique=False)

    op.create_table('organisation_key_seals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('admin_id', sa.String(length=36), nullable=False),
    sa.Column('public_key', sa.String(length=100), nullable=False),
    sa.Column('sealed_identity', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', vault.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['admin_id'], ['accounts.id'], name=op.f('fk_organisation_key_seals_admin_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_key_seals_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_key_seals')),
    sa.UniqueConstraint('organisation_id', 'admin_id', name=op.f('uq_organisation_key_seals_organisation_id'))
    )
    with op.batch_alter_table('organisation_key_seals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_key_seals_admin_id'), ['admin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_key_seals_organisation_id'), ['organisation_id'], unique=False)

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_signed_in_at', vault.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('recovery_notice_at', vault.models.UTCDateTime(), nullable=True))

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_documents_deposited_by_id_accounts'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_documents_deposited_by_id_accounts'), 'accounts', ['deposited_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_documents_expires_on', ['expires_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_expires_on')
        batch_op.drop_constraint(batch_op.f('fk_documents_deposited_by_id_accounts'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_documents_deposited_by_id_accounts'), 'accounts', ['deposited_by_id'], ['id'])

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('recovery_notice_at')
        batch_op.drop_column('last_signed_in_at')

    with op.batch_alter_table('organisation_key_seals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_key_seals_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_key_seals_admin_id'))

    op.drop_table('organisation_key_seals')
    with op.batch_alter_table('closed_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closed_shares_grantee_id'))

    op.drop_table('closed_shares')
    with op.batch_alter_table('assisted_recovery_seals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assisted_recovery_seals_person_id'))
        batch_op.drop_index(batch_op.f('ix_assisted_recovery_seals_organisation_id'))

    op.drop_table('assisted_recovery_seals')
    with op.batch_alter_table('assisted_recoveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assisted_recoveries_person_id'))
        batch_op.drop_index(batch_op.f('ix_assisted_recoveries_organisation_id'))

    op.drop_table('assisted_recoveries')
