"""Concurrent submissions to one office get distinct, gap-free receipt numbers (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from zairyu.applications.receipts import receipt_number
from zairyu.core import clock


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_get_distinct_gap_free_numbers(postgres_only):
    day = clock.today()
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def submit_one() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                results.append(receipt_number(office="nagoya", procedure="P3", group="N", receipt_date=day))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit_one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    serials = sorted(int(number.rsplit("-", 1)[1]) for number in results)
    assert serials == list(range(1, 21))
