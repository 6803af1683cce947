"""Zairyu: an open implementation of Japan's Online Residence Application System."""

from zairyu.celery import app as celery_app

__all__ = ["celery_app"]
