"""Institution data and personnel: institution profile, branches, attachments, staffing quotas, standard
posts, the basic and detailed personnel record, tags, trial-period registrations and batch imports.

Posts keep their standard-post mapping: each distinct old ``posts.standard_post`` text becomes a nationwide
standard post and the post points at it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 04:02:18.226821
"""
from alembic import op
import sqlalchemy as sa
import models.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_certificates',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('issuer', sa.String(length=128), nullable=True),
    sa.Column('speciality', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_staff_certificates_attachment_id_attachments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_certificates_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_certificates'))
    )
    with op.batch_alter_table('staff_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_certificates_staff_id'), ['staff_id'], unique=False)

    op.create_table('staff_education',
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('school', sa.String(length=128), nullable=False),
    sa.Column('major', sa.String(length=64), nullable=True),
    sa.Column('education', sa.String(length=16), nullable=False),
    sa.Column('degree', sa.String(length=16), nullable=True),
    sa.Column('certificate_no', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('ended_on IS NULL OR started_on IS NULL OR ended_on >= started_on', name=op.f('ck_staff_education_period')),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_staff_education_attachment_id_attachments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_education_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_education'))
    )
    with op.batch_alter_table('staff_education', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_education_staff_id'), ['staff_id'], unique=False)

    op.create_table('staff_work_history',
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('unit', sa.String(length=128), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('position', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('ended_on IS NULL OR ended_on >= started_on', name=op.f('ck_staff_work_history_period')),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_staff_work_history_attachment_id_attachments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_work_history_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_work_history'))
    )
    with op.batch_alter_table('staff_work_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_work_history_staff_id'), ['staff_id'], unique=False)

    op.create_table('standard_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_standard_posts_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_posts')),
    sa.UniqueConstraint('region_code', 'name', name=op.f('uq_standard_posts_region_code_name'))
    )
    with op.batch_alter_table('standard_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_posts_region_code'), ['region_code'], unique=False)

    op.create_table('trial_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('exam_category', sa.String(length=16), nullable=False),
    sa.Column('exam_level', sa.String(length=16), nullable=False),
    sa.Column('trial_started_on', sa.Date(), nullable=False),
    sa.Column('trial_ended_on', sa.Date(), nullable=True),
    sa.Column('supervisor_name', sa.String(length=64), nullable=True),
    sa.Column('assessment', sa.String(length=16), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', models.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_trial_registrations_attachment_id_attachments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_trial_registrations_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trial_registrations')),
    sa.UniqueConstraint('staff_id', name=op.f('uq_trial_registrations_staff_id'))
    )
    op.create_table('import_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.Column('update_existing', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('updated_count', sa.Integer(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', models.db.UTCDateTime(), nullable=False),
    sa.Column('started_at', models.db.UTCDateTime(), nullable=True),
    sa.Column('finished_at', models.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_import_jobs_status')),
    sa.CheckConstraint('processed <= total AND created_count + updated_count + failed_count <= total', name=op.f('ck_import_jobs_counts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_jobs_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_import_jobs_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['attachments.id'], name=op.f('fk_import_jobs_report_id_attachments')),
    sa.ForeignKeyConstraint(['upload_id'], ['attachments.id'], name=op.f('fk_import_jobs_upload_id_attachments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_import_jobs_org_created', ['org_id', 'created_at'], unique=False)
        batch_op.create_index('ix_import_jobs_status', ['status'], unique=False)

    op.create_table('org_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('created_at', models.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_org_attachments_attachment_id_attachments')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_org_attachments_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_attachments')),
    sa.UniqueConstraint('attachment_id', name=op.f('uq_org_attachments_attachment_id'))
    )
    with op.batch_alter_table('org_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_attachments_org_id'), ['org_id'], unique=False)

    op.create_table('org_branches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('latitude', sa.Numeric(precision=8, scale=6), nullable=True),
    sa.Column('beds', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_org_branches_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_branches'))
    )
    with op.batch_alter_table('org_branches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_branches_org_id'), ['org_id'], unique=False)

    op.create_table('staff_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.db.UTCDateTime(), nullable=False),
    sa.Column('sealed_at', models.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_staff_tags_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_staff_tags_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_tags')),
    sa.UniqueConstraint('org_id', 'year', 'name', name=op.f('uq_staff_tags_org_id_year_name'))
    )
    with op.batch_alter_table('staff_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_tags_org_id'), ['org_id'], unique=False)

    op.create_table('staff_tag_members',
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_tag_members_staff_id_staff'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['staff_tags.id'], name=op.f('fk_staff_tag_members_tag_id_staff_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tag_id', 'staff_id', name=op.f('pk_staff_tag_members'))
    )
    with op.batch_alter_table('staff_tag_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_tag_members_staff_id'), ['staff_id'], unique=False)

    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quota', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_check_constraint(op.f('ck_departments_quota'), 'quota >= 0')

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True))
        batch_op.add_column(sa.Column('latitude', sa.Numeric(precision=8, scale=6), nullable=True))
        batch_op.add_column(sa.Column('postal_code', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('website', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('legal_representative', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('principal', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('ownership', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('grade', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('beds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('established_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('quota', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('quota_set_at', models.db.UTCDateTime(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_organizations_quota'), 'quota IS NULL OR quota >= 0')
        batch_op.create_check_constraint(op.f('ck_organizations_beds'), 'beds IS NULL OR beds >= 0')
        batch_op.create_check_constraint(op.f('ck_organizations_longitude'),
                                         'longitude IS NULL OR (longitude BETWEEN -180 AND 180)')
        batch_op.create_check_constraint(op.f('ck_organizations_latitude'),
                                         'latitude IS NULL OR (latitude BETWEEN -90 AND 90)')

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('standard_post_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sort', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_posts_standard_post_id'), ['standard_post_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_posts_standard_post_id_standard_posts'), 'standard_posts', ['standard_post_id'], ['id'], ondelete='SET NULL')
    _map_standard_posts()
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('standard_post')

    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ethnicity', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('political_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('education', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('degree', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('major', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('work_started_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('joined_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('work_status', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('staff_category', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('title', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('practice_cert_no', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('qualification_cert_no', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('mobile', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('note', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('photo_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('created_at', models.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', models.db.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_staff_id_number', ['id_number'], unique=False)
        batch_op.create_index('ix_staff_org_name', ['org_id', 'name'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_staff_photo_id_attachments'), 'attachments', ['photo_id'], ['id'], ondelete='SET NULL')



def _map_standard_posts():
    bind = op.get_bind()
    names = [row[0] for row in bind.execute(sa.text(
        "SELECT DISTINCT standard_post FROM posts WHERE standard_post IS NOT NULL ORDER BY standard_post"))]
    for sort, name in enumerate(names):
        bind.execute(sa.text("INSERT INTO standard_posts (region_code, name, category, sort) "
                             "VALUES (NULL, :name, '其他', :sort)"), {"name": name, "sort": sort})
    bind.execute(sa.text("UPDATE posts SET standard_post_id = (SELECT s.id FROM standard_posts s "
                         "WHERE s.region_code IS NULL AND s.name = posts.standard_post) "
                         "WHERE standard_post IS NOT NULL"))


def _restore_standard_post_names():
    op.get_bind().execute(sa.text("UPDATE posts SET standard_post = (SELECT s.name FROM standard_posts s "
                                  "WHERE s.id = posts.standard_post_id)"))


def downgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_photo_id_attachments'), type_='foreignkey')
        batch_op.drop_index('ix_staff_org_name')
        batch_op.drop_index('ix_staff_id_number')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('created_at')
        batch_op.drop_column('photo_id')
        batch_op.drop_column('note')
        batch_op.drop_column('mobile')
        batch_op.drop_column('qualification_cert_no')
        batch_op.drop_column('practice_cert_no')
        batch_op.drop_column('title')
        batch_op.drop_column('staff_category')
        batch_op.drop_column('work_status')
        batch_op.drop_column('joined_on')
        batch_op.drop_column('work_started_on')
        batch_op.drop_column('major')
        batch_op.drop_column('degree')
        batch_op.drop_column('education')
        batch_op.drop_column('political_status')
        batch_op.drop_column('ethnicity')
        batch_op.drop_column('birth_date')

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('standard_post', sa.VARCHAR(length=64), nullable=True))
    _restore_standard_post_names()
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_posts_standard_post_id_standard_posts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_posts_standard_post_id'))
        batch_op.drop_column('sort')
        batch_op.drop_column('standard_post_id')

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        for name in ('quota', 'beds', 'longitude', 'latitude'):
            batch_op.drop_constraint(op.f(f'ck_organizations_{name}'), type_='check')
        batch_op.drop_column('quota_set_at')
        batch_op.drop_column('quota')
        batch_op.drop_column('description')
        batch_op.drop_column('established_on')
        batch_op.drop_column('beds')
        batch_op.drop_column('grade')
        batch_op.drop_column('ownership')
        batch_op.drop_column('principal')
        batch_op.drop_column('legal_representative')
        batch_op.drop_column('website')
        batch_op.drop_column('email')
        batch_op.drop_column('phone')
        batch_op.drop_column('postal_code')
        batch_op.drop_column('latitude')
        batch_op.drop_column('longitude')
        batch_op.drop_column('address')

    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_departments_quota'), type_='check')
        batch_op.drop_column('quota')

    with op.batch_alter_table('staff_tag_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_tag_members_staff_id'))

    op.drop_table('staff_tag_members')
    with op.batch_alter_table('staff_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_tags_org_id'))

    op.drop_table('staff_tags')
    with op.batch_alter_table('org_branches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_branches_org_id'))

    op.drop_table('org_branches')
    with op.batch_alter_table('org_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_attachments_org_id'))

    op.drop_table('org_attachments')
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_import_jobs_status')
        batch_op.drop_index('ix_import_jobs_org_created')

    op.drop_table('import_jobs')
    op.drop_table('trial_registrations')
    with op.batch_alter_table('standard_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standard_posts_region_code'))

    op.drop_table('standard_posts')
    with op.batch_alter_table('staff_work_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_work_history_staff_id'))

    op.drop_table('staff_work_history')
    with op.batch_alter_table('staff_education', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_education_staff_id'))

    op.drop_table('staff_education')
    with op.batch_alter_table('staff_certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_certificates_staff_id'))

    op.drop_table('staff_certificates')
