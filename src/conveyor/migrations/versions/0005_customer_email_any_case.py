"""customers: find by e-mail in any case (capture of web-shop buyers)

ix_customers_email (email) becomes ix_customers_email_lower (lower(email)), so capture matches
"Anna@Example.com" and "anna@example.com" through an index on both databases.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 04:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_email')
    op.create_index('ix_customers_email_lower', 'customers', [sa.text('lower(email)')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_customers_email_lower', table_name='customers')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_email', ['email'], unique=False)
