"""The condition language of the form catalogue: ``required``, ``applies`` and ``show_when``.

A condition is ``{answer: <field id>, <test>}``, ``{context: <variable>, <test>}``, ``{all: [...]}``,
``{any: [...]}`` or ``{not: ...}`` (the grammar is in the package docstring). :class:`Condition`
is its parsed form; :meth:`Condition.resolve` evaluates the context once (:func:`form_for`), so
that the conditions of a form speak of answers only, and :meth:`Condition.evaluate` looks at the
answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

CONTEXT_VARIABLES = frozenset(
    {
        "procedure",
        "group",
        "status",
        "user_category",
        "add_ons",
        "organization_part",
        "status_family",
        "organization_part_as_pdf",
    }
)
TESTS = frozenset({"equals", "not_equals", "in", "not_in", "contains", "is_set"})


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""The value of an answer that is blank, invalid or hidden."""


@dataclass(frozen=True)
class Condition:
    """A node of the condition language (see the package docstring).

    ``op`` is ``true``/``false`` (constants: ``required: always``/``never``), ``answer``,
    ``context``, ``all``, ``any`` or ``not``.
    """

    op: str
    name: str = ""
    test: str = ""
    value: Any = None
    parts: tuple[Condition, ...] = ()

    @property
    def is_constant(self) -> bool:
        return self.op in ("true", "false")

    def evaluate(self, answer: Callable[[str], Any], context: Mapping[str, Any] | None = None) -> bool:
        if self.op == "true":
            return True
        if self.op == "false":
            return False
        if self.op == "all":
            return all(part.evaluate(answer, context) for part in self.parts)
        if self.op == "any":
            return any(part.evaluate(answer, context) for part in self.parts)
        if self.op == "not":
            return not self.parts[0].evaluate(answer, context)
        if self.op == "answer":
            return _apply_test(self.test, answer(self.name), self.value)
        if context is None:
            raise ValueError(f"the condition on context '{self.name}' needs a context")
        return _context_test(self, context)

    def resolve(self, context: Mapping[str, Any]) -> Condition:
        """The condition with every context test replaced by its value, simplified."""
        if self.op in ("true", "false", "answer"):
            return self
        if self.op == "context":
            return ALWAYS if _context_test(self, context) else NEVER
        parts = [part.resolve(context) for part in self.parts]
        if self.op == "not":
            inner = parts[0]
            return (
                NEVER if inner == ALWAYS else ALWAYS if inner == NEVER else Condition("not", parts=(inner,))
            )
        absorbing, neutral = (NEVER, ALWAYS) if self.op == "all" else (ALWAYS, NEVER)
        if any(part == absorbing for part in parts):
            return absorbing
        kept = tuple(part for part in parts if part != neutral)
        if not kept:
            return neutral
        return kept[0] if len(kept) == 1 else Condition(self.op, parts=kept)

    def answer_refs(self) -> set[str]:
        if self.op == "answer":
            return {self.name}
        return set().union(*(part.answer_refs() for part in self.parts)) if self.parts else set()

    def to_data(self) -> Any:
        """The condition in its YAML/JSON form (``always``/``never`` for the constants)."""
        if self.op == "true":
            return "always"
        if self.op == "false":
            return "never"
        if self.op in ("all", "any"):
            return {self.op: [part.to_data() for part in self.parts]}
        if self.op == "not":
            return {"not": self.parts[0].to_data()}
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {self.op: self.name, self.test: value}


ALWAYS = Condition("true")
NEVER = Condition("false")


def conjunction(*conditions: Condition) -> Condition:
    """All of ``conditions``, simplified."""
    return Condition("all", parts=conditions).resolve({})


def _apply_test(test: str, actual: Any, expected: Any) -> bool:
    if test == "is_set":
        return (actual is not UNSET) == expected
    if actual is UNSET:
        return test in ("not_equals", "not_in")
    if test == "equals":
        return bool(actual == expected)
    if test == "not_equals":
        return bool(actual != expected)
    if test == "in":
        return actual in expected
    if test == "not_in":
        return actual not in expected
    if test == "contains":
        return isinstance(actual, list | tuple) and expected in actual
    raise ValueError(f"unknown test {test!r}")


def _context_test(condition: Condition, context: Mapping[str, Any]) -> bool:
    if condition.name == "status":
        key = context["status"]
        names = {key, key.split("/")[0]}
        if condition.test == "equals":
            return condition.value in names
        if condition.test == "not_equals":
            return condition.value not in names
        if condition.test == "in":
            return bool(names & set(condition.value))
        if condition.test == "not_in":
            return not names & set(condition.value)
    actual = context[condition.name]
    if condition.test == "is_set":
        return bool(actual) == condition.value
    return _apply_test(condition.test, actual, condition.value)
