"""scheduler notifications and grants

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:07:59.927965
"""
from alembic import op
import sqlalchemy as sa
import models.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduler_leases',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=False),
    sa.Column('acquired_at', models.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', models.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_leases'))
    )
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=False),
    sa.Column('scheduled_for', models.db.UTCDateTime(), nullable=True),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=True),
    sa.Column('started_at', models.db.UTCDateTime(), nullable=False),
    sa.Column('finished_at', models.db.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('rows_affected', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(outcome = 'running') = (finished_at IS NULL)", name=op.f('ck_job_runs_finished')),
    sa.CheckConstraint("outcome IN ('running', 'success', 'failure')", name=op.f('ck_job_runs_outcome')),
    sa.CheckConstraint("trigger IN ('schedule', 'misfire', 'manual')", name=op.f('ck_job_runs_trigger')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_job_runs_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job_id', 'scheduled_for', name=op.f('uq_job_runs_job_id_scheduled_for'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_started', ['job_id', 'started_at'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('link', sa.String(length=255), nullable=True),
    sa.Column('created_at', models.db.UTCDateTime(), nullable=False),
    sa.Column('read_at', models.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at', 'created_at'], unique=False)

    op.create_table('temporary_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', models.db.UTCDateTime(), nullable=False),
    sa.Column('ends_at', models.db.UTCDateTime(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('revoked_at', models.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_temporary_grants_period')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_temporary_grants_granted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], name=op.f('fk_temporary_grants_role_id_roles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_temporary_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_temporary_grants'))
    )
    with op.batch_alter_table('temporary_grants', schema=None) as batch_op:
        batch_op.create_index('ix_temporary_grants_open', ['revoked_at', 'ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_temporary_grants_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lock_detail', sa.String(length=128), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('lock_detail')

    with op.batch_alter_table('temporary_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_temporary_grants_user_id'))
        batch_op.drop_index('ix_temporary_grants_open')

    op.drop_table('temporary_grants')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')

    op.drop_table('notifications')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_job_started')

    op.drop_table('job_runs')
    op.drop_table('scheduler_leases')
