"""review (issue 5): rule sets and their rules, the review audit trail, every order's review results, open
holds and exception-queue cases; customer licences; orders carry their shipping service and an address key;
channels may reserve stock before review.

review: rules, rule sets, audit, order reviews, holds, cases; licences

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 04:42:52.605474
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import conveyor.platform.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('rule_set_id', sa.Integer(), nullable=True),
    sa.Column('rule_no', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('before', conveyor.platform.db.JsonText(), nullable=True),
    sa.Column('after', conveyor.platform.db.JsonText(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_audit'))
    )
    with op.batch_alter_table('review_audit', schema=None) as batch_op:
        batch_op.create_index('ix_review_audit_at', ['at', 'id'], unique=False)

    op.create_table('review_rule_sets',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=300), nullable=False),
    sa.Column('published_at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_rule_sets'))
    )
    with op.batch_alter_table('review_rule_sets', schema=None) as batch_op:
        batch_op.create_index('ix_review_rule_sets_status', ['status', 'id'], unique=False)

    op.create_table('customer_licences',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('created_at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_licences_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_licences'))
    )
    with op.batch_alter_table('customer_licences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_licences_customer_id'), ['customer_id'], unique=False)

    op.create_table('review_rules',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('rule_set_id', sa.Integer(), nullable=False),
    sa.Column('rule_no', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', conveyor.platform.db.JsonText(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('check_name', sa.String(length=120), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['rule_set_id'], ['review_rule_sets.id'], name=op.f('fk_review_rules_rule_set_id_review_rule_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_rules')),
    sa.UniqueConstraint('rule_set_id', 'rule_no', name='uq_review_rules_set_rule')
    )
    op.create_table('order_holds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('rule_no', sa.Integer(), nullable=True),
    sa.Column('rule_version', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('check_name', sa.String(length=120), nullable=True),
    sa.Column('created_at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('cleared_by', sa.String(length=300), nullable=True),
    sa.Column('cleared_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_holds_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_holds'))
    )
    with op.batch_alter_table('order_holds', schema=None) as batch_op:
        batch_op.create_index('ix_order_holds_open_reason', ['cleared_at', 'reason'], unique=False)
        batch_op.create_index('ix_order_holds_order', ['order_id', 'id'], unique=False)

    op.create_table('order_reviews',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('trigger', sa.String(length=30), nullable=False),
    sa.Column('rule_set_id', sa.Integer(), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('results', conveyor.platform.db.JsonText(), nullable=False),
    sa.Column('micros', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_reviews_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_reviews'))
    )
    with op.batch_alter_table('order_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_order_reviews_order', ['order_id', 'id'], unique=False)

    op.create_table('review_cases',
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('assignee', sa.String(length=300), nullable=True),
    sa.Column('waiting_for', sa.String(length=30), nullable=True),
    sa.Column('opened_at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('due_at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=300), nullable=True),
    sa.Column('resolution', sa.String(length=20), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_review_cases_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_review_cases'))
    )
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.create_index('ix_review_cases_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_review_cases_status_reason', ['status', 'reason'], unique=False)

    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reserve_before_review', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipping_service', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('address_key', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_orders_address_created', ['address_key', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_address_created')
        batch_op.drop_column('address_key')
        batch_op.drop_column('shipping_service')

    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_column('reserve_before_review')

    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_review_cases_status_reason')
        batch_op.drop_index('ix_review_cases_status_due')

    op.drop_table('review_cases')
    with op.batch_alter_table('order_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_order_reviews_order')

    op.drop_table('order_reviews')
    with op.batch_alter_table('order_holds', schema=None) as batch_op:
        batch_op.drop_index('ix_order_holds_order')
        batch_op.drop_index('ix_order_holds_open_reason')

    op.drop_table('order_holds')
    op.drop_table('review_rules')
    with op.batch_alter_table('customer_licences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_licences_customer_id'))

    op.drop_table('customer_licences')
    with op.batch_alter_table('review_rule_sets', schema=None) as batch_op:
        batch_op.drop_index('ix_review_rule_sets_status')

    op.drop_table('review_rule_sets')
    with op.batch_alter_table('review_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_review_audit_at')

    op.drop_table('review_audit')
