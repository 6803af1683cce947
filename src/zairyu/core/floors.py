"""The floors of the code: which app may import which (docs/architecture.md, "Floors").

An app imports only apps on lower floors; apps on the same floor do not import each other. A
module belongs to the app whose folder it is in; ``zairyu/celery.py`` (the Celery application,
which imports no app) is a floor of its own at the bottom. ``core/tests/test_import_floors.py``
holds every module to this, imports inside functions and under ``TYPE_CHECKING`` included; tests
and migrations are not held to it.
"""

from __future__ import annotations

FLOORS: dict[str, int] = {
    # 0: what every app stands on: the clock, the audit trail, logging, the middleware, the one
    # shape of a refusal and of a problem document, the Celery application.
    "core": 0,
    "celery": 0,
    # 1: self-contained services, each knowing nothing of the others: the e-mail outbox, the
    # JPKI card simulation and its verification, the catalogue of statuses and procedures.
    "notifications": 1,
    "jpki": 1,
    "catalogue": 1,
    # 2: the residents' register (the demo's stand-in for the immigration database).
    "registry": 2,
    # 3: people: users, sign-in, cards, officers.
    "accounts": 3,
    # 4: stored files and their checks and scanning.
    "documents": 4,
    # 5: organizations filing for others, their staff and their checklists.
    "organizations": 5,
    # 6: the application and its lifecycle: drafts, answers, signing, submission.
    "applications": 6,
    # 7: what works on submitted applications: officers' review; bulk filing.
    "review": 7,
    "bulk": 7,
    # 8: the API for other software.
    "api": 8,
    # 9: the site as a whole: the home page, the health check, serve and load_demo.
    "site": 9,
    # 10: the project: settings and the URL map, which wire up everything.
    "config": 10,
}
