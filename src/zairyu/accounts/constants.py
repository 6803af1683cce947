from django.db import models
from django.utils.translation import gettext_lazy as _


class UserKind(models.TextChoices):
    """The user categories of MISSION §1, and officers of the bureaus."""

    U1 = "U1", _("Foreign national (self)")
    U2 = "U2", _("Legal representative")
    U3 = "U3", _("Relative")
    U4 = "U4", _("Lawyer or administrative scrivener")
    U5 = "U5", _("Staff of the receiving organization")
    U6 = "U6", _("Staff of a public-interest corporation")
    U7 = "U7", _("Staff of a registered support organization")
    U8 = "U8", _("Window applicant receiving the e-COE by email")
    OFFICER = "officer", _("Immigration officer")


CARD_KINDS = frozenset({UserKind.U1, UserKind.U2, UserKind.U3})


class UserState(models.TextChoices):
    PENDING = "pending", _("Waiting for the first password")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    REMOVED = "removed", _("Removed")


class OfficerRole(models.TextChoices):
    REVIEWER = "reviewer", _("Reviewer")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMINISTRATOR = "administrator", _("Administrator")


class Relation(models.TextChoices):
    """How a legal representative (U2) or a relative (U3) stands to the applicant."""

    PARENT_WITH_CUSTODY = "parent_with_custody", _("Parent with parental authority")
    GUARDIAN_OF_MINOR = "guardian_of_minor", _("Guardian of a minor")
    ADULT_GUARDIAN = "adult_guardian", _("Adult guardian")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Father or mother")


RELATIONS_BY_KIND = {
    UserKind.U2: (Relation.PARENT_WITH_CUSTODY, Relation.GUARDIAN_OF_MINOR, Relation.ADULT_GUARDIAN),
    UserKind.U3: (Relation.SPOUSE, Relation.CHILD, Relation.PARENT),
}


class TokenPurpose(models.TextChoices):
    SET_PASSWORD = "set_password", _("Set the first password")
    RESET_PASSWORD = "reset_password", _("Reset the password")
    CONFIRM_EMAIL = "confirm_email", _("Confirm a new e-mail address")


class ChallengePurpose(models.TextChoices):
    REGISTER = "register", _("Registration with the signing certificate")
    SIGN_IN = "sign_in", _("Sign-in with the user-authentication certificate")
    PASSKEY_REGISTER = "passkey_register", _("Registration of a passkey")
    PASSKEY_SIGN_IN = "passkey_sign_in", _("Sign-in with a passkey")
