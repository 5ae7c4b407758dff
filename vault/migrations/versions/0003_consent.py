"""consent: staff invitations and purposes, shares and their wrapped keys, access requests, duplicates

Also a display name for staff (what people read in their activity) and the end of a membership
(deactivation).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 21:47:53
"""

from alembic import op
import sqlalchemy as sa
import vault.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_requests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('requester_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('purpose_code', sa.String(length=40), nullable=False),
    sa.Column('purpose_text', sa.String(length=200), nullable=True),
    sa.Column('duration_days', sa.Integer(), nullable=False),
    sa.Column('created_at', vault.models.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answered_at', vault.models.UTCDateTime(), nullable=True),
    sa.Column('share_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_access_requests_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['accounts.id'], name=op.f('fk_access_requests_person_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_id'], ['accounts.id'], name=op.f('fk_access_requests_requester_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_requests'))
    )
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.create_index('ix_access_requests_organisation_created', ['organisation_id', 'created_at'], unique=False)
        batch_op.create_index('ix_access_requests_person_status', ['person_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_requests_requester_id'), ['requester_id'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('code_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('key_version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', vault.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', vault.models.UTCDateTime(), nullable=False),
    sa.Column('used_at', vault.models.UTCDateTime(), nullable=True),
    sa.Column('used_by_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['accounts.id'], name=op.f('fk_invitations_created_by_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_invitations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['used_by_id'], ['accounts.id'], name=op.f('fk_invitations_used_by_id_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_invitations_code_hash'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('purposes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=True),
    sa.Column('created_at', vault.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_purposes_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purposes')),
    sa.UniqueConstraint('organisation_id', 'code', 'text', name=op.f('uq_purposes_organisation_id'))
    )
    with op.batch_alter_table('purposes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purposes_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('shares',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('owner_id', sa.String(length=36), nullable=False),
    sa.Column('grantee_id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=True),
    sa.Column('purpose_code', sa.String(length=40), nullable=False),
    sa.Column('purpose_text', sa.String(length=200), nullable=True),
    sa.Column('access_request_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', vault.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', vault.models.UTCDateTime(), nullable=False),
    sa.Column('ended_at', vault.models.UTCDateTime(), nullable=True),
    sa.Column('ended_by_id', sa.String(length=36), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['grantee_id'], ['accounts.id'], name=op.f('fk_shares_grantee_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_shares_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['accounts.id'], name=op.f('fk_shares_owner_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shares'))
    )
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.create_index('ix_shares_grantee_expires', ['grantee_id', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_shares_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_shares_owner_created', ['owner_id', 'created_at'], unique=False)

    op.create_table('duplicates',
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=36), nullable=True),
    sa.Column('document_id', sa.String(length=36), nullable=True),
    sa.Column('share_id', sa.String(length=36), nullable=True),
    sa.Column('issued_to_id', sa.String(length=36), nullable=True),
    sa.Column('organisation_id', sa.String(length=36), nullable=True),
    sa.Column('organisation_name', sa.String(length=200), nullable=True),
    sa.Column('purpose_code', sa.String(length=40), nullable=False),
    sa.Column('purpose_text', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('issued_at', vault.models.UTCDateTime(), nullable=False),
    sa.Column('sha256', sa.LargeBinary(length=32), nullable=False),
    sa.Column('signing_key_id', sa.String(length=40), nullable=False),
    sa.Column('deletion_requested_at', vault.models.UTCDateTime(), nullable=True),
    sa.Column('deletion_answer', sa.String(length=16), nullable=True),
    sa.Column('deletion_answered_at', vault.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_duplicates_document_id_documents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issued_to_id'], ['accounts.id'], name=op.f('fk_duplicates_issued_to_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_duplicates_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['accounts.id'], name=op.f('fk_duplicates_owner_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['share_id'], ['shares.id'], name=op.f('fk_duplicates_share_id_shares'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('ref', name=op.f('pk_duplicates'))
    )
    with op.batch_alter_table('duplicates', schema=None) as batch_op:
        batch_op.create_index('ix_duplicates_issuer_issued', ['issued_to_id', 'issued_at'], unique=False)
        batch_op.create_index('ix_duplicates_owner_issued', ['owner_id', 'issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_duplicates_share_id'), ['share_id'], unique=False)

    op.create_table('shared_documents',
    sa.Column('share_id', sa.String(length=36), nullable=False),
    sa.Column('document_id', sa.String(length=36), nullable=False),
    sa.Column('wrapped_file_key', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_shared_documents_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['share_id'], ['shares.id'], name=op.f('fk_shared_documents_share_id_shares'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('share_id', 'document_id', name=op.f('pk_shared_documents'))
    )
    with op.batch_alter_table('shared_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_documents_document_id'), ['document_id'], unique=False)

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=80), nullable=True))

    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', vault.models.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('ended_at')

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('display_name')

    with op.batch_alter_table('shared_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shared_documents_document_id'))

    op.drop_table('shared_documents')
    with op.batch_alter_table('duplicates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicates_share_id'))
        batch_op.drop_index('ix_duplicates_owner_issued')
        batch_op.drop_index('ix_duplicates_issuer_issued')

    op.drop_table('duplicates')
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.drop_index('ix_shares_owner_created')
        batch_op.drop_index(batch_op.f('ix_shares_organisation_id'))
        batch_op.drop_index('ix_shares_grantee_expires')

    op.drop_table('shares')
    with op.batch_alter_table('purposes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purposes_organisation_id'))

    op.drop_table('purposes')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_organisation_id'))

    op.drop_table('invitations')
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_requests_requester_id'))
        batch_op.drop_index('ix_access_requests_person_status')
        batch_op.drop_index('ix_access_requests_organisation_created')

    op.drop_table('access_requests')
