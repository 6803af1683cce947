"""Public pages generated from the catalogue."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def who_can_file(request: HttpRequest) -> HttpResponse:
    return render(request, "catalogue/who_can_file.html", {})
