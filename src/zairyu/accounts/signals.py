"""What accounts tells the apps above it, which it does not import (``zairyu.core.floors``).

* ``first_password_set`` (``sender=User``, ``user=``): an account set its first password and is
  now active. Sent inside the transaction, before the account is saved: a receiver may set
  ``user.valid_until`` (organizations does, for its staff: their IDs are valid as long as the
  organization, and the first password of an organization starts that).
* ``officer_home`` (``sender=User``, ``officer=``): the officer home is shown to an officer of an
  office. Each receiver returns a dict that is added to the page's context (the work queues of
  organizations and of review).
"""

from __future__ import annotations

from django.dispatch import Signal

first_password_set = Signal()
officer_home = Signal()
