"""Choices and fixed values of the residence registry."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class OrganizationKind(models.TextChoices):
    EMPLOYER = "employer", _("Employer")
    SCHOOL = "school", _("School")
    SUPERVISING_ORGANIZATION = "supervising_organization", _("Supervising organization")
    PUBLIC_INTEREST_CORPORATION = "public_interest_corporation", _("Public interest corporation")
    REGISTERED_SUPPORT_ORGANIZATION = "registered_support_organization", _("Registered support organization")


class OrganizationCategory(models.IntegerChoices):
    """The four categories the Immigration Services Agency sorts receiving organizations into;
    the category decides which documents an application must attach."""

    CATEGORY_1 = 1, _("Category 1: listed companies, public bodies and the like")
    CATEGORY_2 = 2, _("Category 2: withholding tax on salaries of 10 million yen or more last year")
    CATEGORY_3 = 3, _("Category 3: filed last year's statutory statement of withholding (not category 2)")
    CATEGORY_4 = 4, _("Category 4: none of the above")


class AgentHolderKind(models.TextChoices):
    LAWYER = "lawyer", _("Lawyer")
    ADMINISTRATIVE_SCRIVENER = "administrative_scrivener", _("Administrative scrivener")
    ORGANIZATION_STAFF = "organization_staff", _("Staff of a receiving or support organization")


# Entries whose holders have no period of stay: no period code and no stay expiry in the
# registry, and a residence card valid for a fixed number of years instead.
INDEFINITE_STAY_STATUSES = frozenset({"permanent_resident", "highly_skilled_professional/2"})

# A residence card of a holder with an indefinite stay is valid for seven years (Article 19-5 of
# the Immigration Control Act); other cards expire with the period of stay.
INDEFINITE_STAY_CARD_YEARS = 7

# A card of a holder under 16 expires on the 16th birthday at the latest.
CARD_AGE_LIMIT = 16

# Agent certificates are issued for three years.
AGENT_CERTIFICATE_YEARS = 3
