from django.urls import path

from zairyu.accounts.views import applicant, staff

app_name = "staff"

urlpatterns = [
    path("", staff.home, name="home"),
    path("sign-in/", staff.sign_in, name="sign-in"),
    path("sign-in/code/", staff.staff_otp, name="otp"),
    path("sign-out/", applicant.sign_out, name="sign-out"),
    path("unlock/", staff.unlock, name="unlock"),
]
