"""The claimable index in page order (due date, then id) and covering the view's other filters, so the first
page of 可认领 is read in order and its count from the index alone; instances looked up by status (the few in
error are left out of the inbox).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 05:17:55.128805
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_human_tasks_claimable'))
        batch_op.create_index('ix_human_tasks_claimable', ['candidate_org_id', 'state', 'due_at', 'id', 'lane', 'assignee_id', 'initiator_id', 'instance_id'], unique=False)

    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.create_index('ix_process_instances_status', ['status'], unique=False)



def downgrade():
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.drop_index('ix_process_instances_status')

    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_human_tasks_claimable')
        batch_op.create_index(batch_op.f('ix_human_tasks_claimable'), ['candidate_org_id', 'lane', 'state', 'due_at'], unique=False)

