from django.urls import path

from zairyu.organizations.views import applicant as views

app_name = "organizations"

urlpatterns = [
    path("", views.home, name="home"),
    path("apply/", views.apply_start, name="apply"),
    path("apply/<str:token>/", views.apply_organization, name="apply-organization"),
    path("apply/<str:token>/details/", views.apply_details, name="apply-details"),
    path("status/<str:token>/", views.application_status, name="status"),
    path("additional/", views.additional_application, name="additional"),
    path("report/", views.periodic_report, name="report"),
    path("changes/", views.change_notification, name="change"),
    path("mandates/", views.mandates_add, name="mandates-add"),
    path("staff/<int:membership_id>/left/", views.staff_left, name="staff-left"),
    path("leave/", views.leave, name="leave"),
    path("documents/<uuid:document_id>/", views.document, name="document"),
]
