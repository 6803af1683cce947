from django.urls import path

from zairyu.accounts.views import applicant, passkeys, staff

app_name = "staff"

urlpatterns = [
    path("", staff.home, name="home"),
    path("sign-in/", staff.sign_in, name="sign-in"),
    path("sign-in/code/", staff.staff_otp, name="otp"),
    path("sign-in/passkey/", passkeys.staff_sign_in, name="otp-passkey"),
    path("sign-in/passkey/options/", passkeys.staff_sign_in_options, name="otp-passkey-options"),
    path("security/", passkeys.staff_security, name="security"),
    path("security/passkeys/options/", passkeys.staff_registration_options, name="passkey-options"),
    path("security/passkeys/add/", passkeys.staff_add, name="passkey-add"),
    path("security/passkeys/<int:pk>/remove/", passkeys.staff_remove, name="passkey-remove"),
    path("sign-out/", applicant.sign_out, name="sign-out"),
    path("unlock/", staff.unlock, name="unlock"),
    path("second-factor-reset/", staff.second_factor_reset, name="second-factor-reset"),
]
