from django.urls import path  # noqa: F401

app_name = "public_review"

urlpatterns: list = []
