"""capture (issue 4): trading partners and their item mappings, the capture log, acknowledgements sent,
control numbers; order lines may be unmapped (product_id null, the order is held for item mapping); orders carry
a fingerprint for probable-duplicate review; customers are found by email.

capture: trading partners, capture log, acknowledgements, unmapped lines, fingerprints

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 02:09:24.631026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import conveyor.platform.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_captures',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('received_at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('orders_created', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('ignored', sa.Integer(), nullable=False),
    sa.Column('problems', conveyor.platform.db.JsonText(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_channel_captures_channel_id_channels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_captures'))
    )
    with op.batch_alter_table('channel_captures', schema=None) as batch_op:
        batch_op.create_index('ix_channel_captures_channel_received', ['channel_id', 'received_at'], unique=False)

    op.create_table('control_numbers',
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('standard', sa.String(length=10), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_control_numbers_channel_id_channels')),
    sa.PrimaryKeyConstraint('channel_id', 'standard', name=op.f('pk_control_numbers'))
    )
    op.create_table('trading_partners',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('our_id', sa.String(length=80), nullable=True),
    sa.Column('documents', conveyor.platform.db.JsonText(), nullable=False),
    sa.Column('units', conveyor.platform.db.JsonText(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_trading_partners_channel_id_channels')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_trading_partners_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trading_partners')),
    sa.UniqueConstraint('channel_id', 'partner_id', name='uq_trading_partners_channel_partner')
    )
    op.create_table('channel_acks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('capture_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('partner', sa.String(length=80), nullable=False),
    sa.Column('control_number', sa.String(length=20), nullable=False),
    sa.Column('reply_to', sa.String(length=300), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', conveyor.platform.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['capture_id'], ['channel_captures.id'], name=op.f('fk_channel_acks_capture_id_channel_captures'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_channel_acks_channel_id_channels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_acks'))
    )
    with op.batch_alter_table('channel_acks', schema=None) as batch_op:
        batch_op.create_index('ix_channel_acks_channel_created', ['channel_id', 'created_at'], unique=False)

    op.create_table('partner_items',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('buyer_item', sa.String(length=80), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['trading_partners.id'], name=op.f('fk_partner_items_partner_id_trading_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_partner_items_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_items')),
    sa.UniqueConstraint('partner_id', 'buyer_item', name='uq_partner_items_partner_item')
    )
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_secret', sa.String(length=200), nullable=True))

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.alter_column('product_id',
               existing_type=sa.INTEGER(),
               nullable=True)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_email', ['email'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_orders_channel_created', ['channel_id', 'created_at'], unique=False)
        batch_op.create_index('ix_orders_fingerprint', ['fingerprint', 'created_at'], unique=False)




def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_fingerprint')
        batch_op.drop_index('ix_orders_channel_created')
        batch_op.drop_column('fingerprint')

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_email')

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.alter_column('product_id',
               existing_type=sa.INTEGER(),
               nullable=False)

    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_column('webhook_secret')

    op.drop_table('partner_items')
    with op.batch_alter_table('channel_acks', schema=None) as batch_op:
        batch_op.drop_index('ix_channel_acks_channel_created')

    op.drop_table('channel_acks')
    op.drop_table('trading_partners')
    op.drop_table('control_numbers')
    with op.batch_alter_table('channel_captures', schema=None) as batch_op:
        batch_op.drop_index('ix_channel_captures_channel_received')

    op.drop_table('channel_captures')

