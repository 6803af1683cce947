"""The lifecycle table is the one place the state of an application changes (ADR 0015).

These tests read the code as well as run it: the state is assigned only in ``lifecycle.py``, every
action a service records is in the table, every state can be reached, and a journey through the
services leaves a history that the table allows, step by step.
"""

from __future__ import annotations

import ast
import datetime as dt
import pathlib

import pytest

from zairyu.accounts.constants import OfficerRole
from zairyu.applications import lifecycle
from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import ApplicationEvent, ApplicationRequest
from zairyu.core import clock
from zairyu.core.errors import Refused
from zairyu.review import services as review
from zairyu.review.tests.factories import officer, submitted

S = ApplicationState
SRC = pathlib.Path(__file__).resolve().parents[2]
LIFECYCLE = SRC / "applications" / "lifecycle.py"
CALLS = {"transition", "record", "set_state", "record_in_bulk"}  # what writes history


def _code_files():
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).parts
        if "tests" in parts or "migrations" in parts:
            continue
        yield path, ast.parse(path.read_text(), filename=str(path))


def _mentions_application_state(node: ast.AST) -> bool:
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    attrs = {
        n.value.id for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
    }
    return bool({"ApplicationState", "S"} & (names | attrs)) or "EDITABLE_STATES" in names


def test_only_the_lifecycle_assigns_the_state_of_an_application():
    """``x.state = <an ApplicationState>``, ``Application.objects….update(state=…)`` and
    ``Application(…, state=…)`` appear nowhere but in lifecycle.py."""
    found = []
    for path, tree in _code_files():
        if path == LIFECYCLE:
            continue
        where = path.relative_to(SRC)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr == "state":
                        owner = ast.unparse(target.value)
                        if "application" in owner.lower() or _mentions_application_state(node.value):
                            found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
            if isinstance(node, ast.Call) and any(k.arg == "state" for k in node.keywords):
                text = ast.unparse(node.func)
                if text == "Application" or (text.endswith(".update") and "Application.objects" in text):
                    found.append(f"{where}:{node.lineno}: {ast.unparse(node)[:100]}")
    assert not found, "the state of an application is set outside the lifecycle:\n" + "\n".join(found)


def _actions_used() -> set[str]:
    """Every action name the code passes to the lifecycle (f-strings expanded over the kinds of
    request, the only ones built from a value)."""
    actions: set[str] = set()
    for path, tree in _code_files():
        if path == LIFECYCLE:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "lifecycle"):
                continue
            if node.func.attr not in CALLS:
                continue
            for arg in node.args[1:2]:
                if isinstance(arg, ast.Constant):
                    actions.add(arg.value)
                elif isinstance(arg, ast.JoinedStr):
                    suffix = "".join(v.value for v in arg.values if isinstance(v, ast.Constant))
                    actions |= {f"{kind}{suffix}" for kind in ApplicationRequest.Kind.values}
                else:
                    raise AssertionError(f"{path}:{node.lineno}: give the action as a literal")
    return actions


def test_every_action_the_services_record_is_in_the_table_and_every_step_is_used():
    used = _actions_used()
    assert used <= set(lifecycle.STEP_BY_ACTION), used - set(lifecycle.STEP_BY_ACTION)
    unused = set(lifecycle.STEP_BY_ACTION) - used - {"created"}  # created: lifecycle.created()
    assert not unused, f"steps no service takes: {sorted(unused)}"


def test_every_state_is_reached_from_a_new_application():
    reached = set()
    frontier = set(lifecycle.STEP_BY_ACTION["created"].targets)
    while frontier:
        reached |= frontier
        frontier = {
            target
            for step in lifecycle.STEPS
            if step.sources & reached
            for target in step.targets
            if target not in reached
        }
    assert reached == set(S.values)
    for step in lifecycle.STEPS:
        assert step.by and step.checked_by, step.action
        assert set(step.sources) <= set(S.values) and set(step.targets) <= set(S.values)


@pytest.mark.django_db
def test_the_table_refuses_a_wrong_state_a_wrong_actor_and_a_state_change_recorded_as_an_event():
    application = submitted()  # state submitted
    desk = officer("tokyo")
    events = ApplicationEvent.objects.count()
    with pytest.raises(Refused) as refused:
        lifecycle.transition(application, "issued_by_post", S.COMPLETE, actor=desk)
    assert refused.value.code == "wrong_state" and str(S.SUBMITTED.label) in str(refused.value.message)
    with pytest.raises(ValueError):  # a filer does not take an application up
        lifecycle.transition(application, "taken_up", S.UNDER_REVIEW, actor=application.filer)
    with pytest.raises(ValueError):  # taking up does not complete it
        lifecycle.transition(application, "taken_up", S.COMPLETE, actor=desk)
    with pytest.raises(ValueError):  # a change of state is not an event
        lifecycle.record(application, "taken_up", actor=desk)
    application.refresh_from_db()
    assert application.state == S.SUBMITTED and ApplicationEvent.objects.count() == events
    assert lifecycle.allowed(application, "taken_up", actor=desk)
    assert not lifecycle.allowed(application, "taken_up", actor=application.filer)
    assert not lifecycle.allowed(application, "decided", actor=desk)


@pytest.mark.django_db
def test_a_journey_through_the_services_leaves_a_history_the_table_allows():
    application = submitted(method="post")
    desk = officer("tokyo", role=OfficerRole.SUPERVISOR)
    review.application_take_up(application_id=application.pk, officer=desk)
    review.documents_request(
        application_id=application.pk,
        officer=desk,
        message="More.",
        deadline=clock.today() + dt.timedelta(days=7),
    )
    review.application_decide(
        application_id=application.pk,
        officer=desk,
        outcome="permit",
        status="engineer_humanities",
        period_of_stay="1Y",
        stay_expires_on=clock.today() + dt.timedelta(days=365),
    )
    review.postal_items_record(
        application_id=application.pk, officer=desk, envelope=True, fee_form=True, card=True
    )
    review.issue_by_post(application_id=application.pk, officer=desk, tracking_number="JP1")
    history = list(ApplicationEvent.objects.filter(application=application).order_by("pk"))
    assert [e.action for e in history][-5:] == [
        "taken_up",
        "documents_requested",
        "decided",
        "postal_items_received",
        "issued_by_post",
    ]
    for event in history:
        step = lifecycle.STEP_BY_ACTION[event.action]
        assert lifecycle.who(event.actor) in step.by, event.action
        if step.sources:
            assert event.from_state in step.sources, (event.action, event.from_state)
        if step.changes_state:
            assert event.to_state in step.targets, (event.action, event.to_state)
        else:
            assert event.to_state == event.from_state, event.action
    application.refresh_from_db()
    assert application.state == S.COMPLETE
