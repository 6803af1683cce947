from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from zairyu.api.api import api
from zairyu.api.api import not_found as api_not_found
from zairyu.site import views as site_views

urlpatterns = [
    path("", site_views.home, name="home"),
    path("healthz", site_views.healthz, name="healthz"),
    path("favicon.ico", site_views.favicon, name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("catalogue/", include("zairyu.catalogue.urls")),
    path("accounts/", include("zairyu.accounts.urls")),
    path("staff/organizations/", include("zairyu.organizations.staff_urls")),
    path("staff/review/", include("zairyu.review.urls")),
    path("staff/", include("zairyu.accounts.staff_urls")),
    path("organizations/", include("zairyu.organizations.urls")),
    path("applications/bulk/", include("zairyu.bulk.urls")),
    path("applications/", include("zairyu.applications.urls")),
    path("public/", include("zairyu.review.public_urls")),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>[\s\S]*)\Z", api_not_found),
    path("api/clients/", include("zairyu.api.urls")),
    path("staff/api-clients/", include("zairyu.api.staff_urls")),
    path("oauth/", include("zairyu.api.oauth_urls")),
    path("admin/login/", RedirectView.as_view(pattern_name="staff:sign-in", query_string=True)),
    path("admin/", admin.site.urls),
]
