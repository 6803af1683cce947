from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "zairyu.site"
    label = "zairyu_site"  # "site" reads like django.contrib.sites and the admin's site
    verbose_name = "Zairyu site"
