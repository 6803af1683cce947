from django.urls import path

from zairyu.organizations.views import officer as views

app_name = "staff_organizations"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("applications/<int:application_id>/", views.application_detail, name="application"),
    path("applications/<int:application_id>/approve/", views.application_approve, name="application-approve"),
    path("applications/<int:application_id>/refuse/", views.application_refuse, name="application-refuse"),
    path("reports/<int:report_id>/", views.report_detail, name="report"),
    path("reports/<int:report_id>/approve/", views.report_approve, name="report-approve"),
    path("reports/<int:report_id>/refuse/", views.report_refuse, name="report-refuse"),
    path("changes/<int:change_id>/", views.change_detail, name="change"),
    path("changes/<int:change_id>/approve/", views.change_approve, name="change-approve"),
    path("changes/<int:change_id>/refuse/", views.change_refuse, name="change-refuse"),
    path("organizations/", views.organizations, name="organizations"),
    path("organizations/<int:enrolment_id>/", views.organization, name="organization"),
    path("staff/<int:membership_id>/remove/", views.staff_remove, name="staff-remove"),
    path("documents/<uuid:document_id>/", views.document, name="document"),
]
