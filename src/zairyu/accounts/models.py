from django.contrib.auth.models import AbstractUser
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """Every person who signs in: applicant-side users (U1–U8) and officers.

    The accounts issue extends this model (authentication ID, user category, validity, office);
    it is a custom model from the first migration so that those fields never need a swap.
    """

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
