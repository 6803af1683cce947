from django.urls import path

from zairyu.accounts.views import applicant as views
from zairyu.accounts.views import passkeys

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("register/", views.register_choose, name="register"),
    path("register/card/<str:kind>/", views.register_card, name="register-card"),
    path("register/card/<str:kind>/details/", views.register_card_details, name="register-card-details"),
    path("register/agent/", views.register_agent, name="register-agent"),
    path("register/window/", views.register_window, name="register-window"),
    path("register/done/", views.register_done, name="register-done"),
    path("password/set/<str:token>/", views.password_set, name="password-set"),
    path("password/forgot/", views.password_forgot, name="password-forgot"),
    path("id/forgot/", views.id_forgot, name="id-forgot"),
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-in/card/", views.sign_in_card, name="sign-in-card"),
    path("sign-in/code/", views.otp, name="otp"),
    path("sign-in/passkey/", passkeys.sign_in, name="otp-passkey"),
    path("sign-in/passkey/options/", passkeys.sign_in_options, name="otp-passkey-options"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("profile/", views.profile, name="profile"),
    path("profile/email/", views.profile_email, name="profile-email"),
    path("profile/address/", views.profile_address, name="profile-address"),
    path("profile/password/", views.profile_password, name="profile-password"),
    path("profile/remove/", views.profile_remove, name="profile-remove"),
    path("profile/passkeys/options/", passkeys.registration_options, name="passkey-options"),
    path("profile/passkeys/add/", passkeys.add, name="passkey-add"),
    path("profile/passkeys/<int:pk>/remove/", passkeys.remove, name="passkey-remove"),
    path("email/confirm/<str:token>/", views.email_confirm, name="email-confirm"),
]
