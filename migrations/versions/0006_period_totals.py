"""day and month totals of the journal

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 03:10:00

"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('period_total',
    sa.Column('span', sa.String(length=5), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('net', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("span IN ('day', 'month')", name=op.f('ck_period_total_span_known')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_period_total_account_id_account')),
    sa.PrimaryKeyConstraint('span', 'starts_on', 'account_id', 'unit', name=op.f('pk_period_total'))
    )
    _fill(table)


def _fill(table):
    """The totals of the lines posted before this revision (added up once, here)."""
    lines = sa.table('journal_line', sa.column('entry_id'), sa.column('account_id'),
                     sa.column('unit'), sa.column('side'), sa.column('amount'))
    entries = sa.table('journal_entry', sa.column('id'), sa.column('entry_date', sa.Date))
    signed = sa.case((lines.c.side == 'D', lines.c.amount), else_=-lines.c.amount)
    daily = op.get_bind().execute(
        sa.select(lines.c.account_id, lines.c.unit, entries.c.entry_date, sa.func.sum(signed))
        .join(entries, entries.c.id == lines.c.entry_id)
        .group_by(lines.c.account_id, lines.c.unit, entries.c.entry_date)
    )
    totals = defaultdict(int)
    for account_id, unit, day, net in daily:
        totals[(account_id, unit, 'day', day)] += int(net)
        totals[(account_id, unit, 'month', day.replace(day=1))] += int(net)
    rows = [
        {'account_id': a, 'unit': u, 'span': s, 'starts_on': d, 'net': net}
        for (a, u, s, d), net in totals.items() if net
    ]
    if rows:
        op.bulk_insert(table, rows)


def downgrade():
    op.drop_table('period_total')
