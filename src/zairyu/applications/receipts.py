"""Receipt numbers (F-05).

Format: ``<office prefix>-<procedure code><group>-<year>-<serial>``, e.g. ``東オン-KN-2026-000123``:

- the office prefix (札オン … 那オン) of the office that receives the application — chosen by the
  applicant's address, or for a Certificate of Eligibility by the receiving organization's address;
- the procedure's receipt code (N COE, H change, K extension, S acquisition, E employment
  certificate) and the input-screen group letter;
- the year of the receipt date (JST) and a six-digit serial, unique and **gap-free per office and
  year**: the counter row is locked and incremented in the submitting transaction, so a rolled-back
  submission gives its number back and concurrent submissions queue on the lock.

The provisional number (``仮-`` + a random part) is given at the same moment; it identifies the
submission even when the formal number could not be obtained (state "error (receipt number not
obtained)", retried by a job).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import IntegrityError, connection, transaction

from zairyu.applications.models import ReceiptCounter
from zairyu.catalogue import get_catalogue

PROVISIONAL_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def provisional_number(receipt_date: dt.date) -> str:
    random_part = "".join(secrets.choice(PROVISIONAL_ALPHABET) for _ in range(8))
    return f"仮-{receipt_date:%Y%m%d}-{random_part}"


def next_serial(*, office: str, year: int) -> int:
    """Take the next serial of ``office`` in ``year``. Must run inside the submitting transaction.

    One ``UPDATE … RETURNING``: the row stays locked until the submission commits (a concurrent
    submission to the same office waits), and a rollback gives the number back — gap-free."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("receipt serials are taken inside the submitting transaction")
    table = connection.ops.quote_name(ReceiptCounter._meta.db_table)
    sql = f"UPDATE {table} SET last_serial = last_serial + 1 WHERE office = %s AND year = %s RETURNING last_serial"  # noqa: S608 (a table name, not input)
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(sql, [office, year])
            row = cursor.fetchone()
        if row is not None:
            return int(row[0])
        try:  # the office's first submission of the year
            with transaction.atomic():
                ReceiptCounter.objects.create(office=office, year=year, last_serial=0)
        except IntegrityError:
            pass  # created concurrently by another submission; the UPDATE above serialises us
    raise RuntimeError("receipt counter could not be created")


def receipt_number(*, office: str, procedure: str, group: str, receipt_date: dt.date) -> str:
    catalogue = get_catalogue()
    serial = next_serial(office=office, year=receipt_date.year)
    return (
        f"{catalogue.offices[office].prefix}-{catalogue.procedures[procedure].receipt_code}{group}"
        f"-{receipt_date.year}-{serial:06d}"
    )
