import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test stores its files in a directory of its own."""
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user(username="APPLICANT0001")


@pytest.fixture(autouse=True)
def english():
    """These tests read the refusal messages in English (the site's default language is Japanese)."""
    from django.utils import translation

    with translation.override("en"):
        yield
