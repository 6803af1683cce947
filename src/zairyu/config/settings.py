"""Zairyu settings: everything is read from the environment, with defaults that run out of the box.

The embedded default (no variables set) uses SQLite, local files, an e-mail outbox written to
files, and background tasks run in-process. Production sets ``ZAIRYU_ENV=production`` and points
the variables below at PostgreSQL, Redis, a Celery broker and an SMTP server. Every variable is
documented in the README ("Configuration").
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent  # src/zairyu
REPO_DIR = BASE_DIR.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"ZAIRYU_{name}")
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"ZAIRYU_{name} must be a boolean (true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"ZAIRYU_{name} must be an integer, not {value!r}") from exc


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


ZAIRYU_ENV = env("ENV", "development")
if ZAIRYU_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured("ZAIRYU_ENV must be development, production or test")
PRODUCTION = ZAIRYU_ENV == "production"

DATA_DIR = Path(env("DATA_DIR", str(REPO_DIR / "var")) or "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("ZAIRYU_SECRET_KEY must be set in production")
    # Development: a random key kept beside the data so sessions survive restarts.
    key_file = DATA_DIR / ".secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "zairyu.core",
    "zairyu.accounts",
    "zairyu.catalogue",
    "zairyu.registry",
    "zairyu.notifications",
    "zairyu.documents",
    "zairyu.organizations",
    "zairyu.applications",
    "zairyu.review",
    "zairyu.bulk",
    "ninja",
    "oauth2_provider",
    "zairyu.api",
    "zairyu.site",  # the top floor: the home page, serve, load_demo
]

MIDDLEWARE = [
    "zairyu.core.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "zairyu.core.middleware.PrivateNoStoreMiddleware",  # before sessions: sees the cookie they set
    "zairyu.core.middleware.ServiceUnavailableMiddleware",  # ditto: an outage saving the session
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "zairyu.core.middleware.SecurityHeadersMiddleware",
    "zairyu.accounts.middleware.NetworkAllowListMiddleware",
    "zairyu.accounts.middleware.SessionTimeoutMiddleware",
    "zairyu.api.api.UnknownQueryParametersMiddleware",
]

ROOT_URLCONF = "zairyu.config.urls"
WSGI_APPLICATION = "zairyu.config.wsgi.application"
ASGI_APPLICATION = "zairyu.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "zairyu.core.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'zairyu.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL and a busy timeout let the in-process task runner and the web server share the file.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "zairyu"}}

SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
)

# --- Background tasks -----------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
# Without a broker, tasks run in-process (eagerly) once the transaction that queued them commits.
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = env_bool("TASKS_EAGER_PROPAGATES", False)
if CELERY_BROKER_URL is None:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None  # user-facing state lives in our tables, never in a result store
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task killed mid-way is run again; tasks are written to be re-run safely
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "zairyu")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Tokyo"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "outbox-flush": {"task": "zairyu.notifications.tasks.outbox_flush", "schedule": 60.0},
    "accounts-daily": {"task": "zairyu.accounts.tasks.accounts_daily", "schedule": 6 * 60 * 60.0},
    "documents-purge-orphans": {
        "task": "zairyu.documents.tasks.documents_purge_orphans",
        "schedule": 24 * 60 * 60.0,
    },
    "documents-rescan-held": {"task": "zairyu.documents.tasks.documents_rescan_held", "schedule": 300.0},
    "applications-receipt-retry": {
        "task": "zairyu.applications.tasks.receipt_numbers_retry",
        "schedule": 300.0,
    },
    "applications-drafts": {"task": "zairyu.applications.tasks.drafts_expire", "schedule": 6 * 60 * 60.0},
    "review-postal-reminders": {
        "task": "zairyu.review.tasks.postal_reminders_send",
        "schedule": 6 * 60 * 60.0,
    },
    "api-webhooks-deliver": {"task": "zairyu.api.tasks.webhooks_deliver", "schedule": 30.0},
    "api-housekeeping": {"task": "zairyu.api.tasks.api_housekeeping", "schedule": 6 * 60 * 60.0},
    "review-scorecard-months": {
        "task": "zairyu.review.tasks.scorecard_months_summarise",
        "schedule": 24 * 60 * 60.0,
    },
    "bulk-resume": {"task": "zairyu.bulk.tasks.bulk_imports_resume", "schedule": 60.0},
    "organizations-daily": {
        "task": "zairyu.organizations.tasks.organizations_daily",
        "schedule": 6 * 60 * 60.0,
    },
}

# --- E-mail ---------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("EMAIL_FROM", "Zairyu <no-reply@zairyu.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SMTP_HOST = env("SMTP_HOST")
if SMTP_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = SMTP_HOST
    EMAIL_PORT = env_int("SMTP_PORT", 587)
    EMAIL_HOST_USER = env("SMTP_USER", "") or ""
    EMAIL_HOST_PASSWORD = env("SMTP_PASSWORD", "") or ""
    _smtp_security = env("SMTP_SECURITY", "starttls")
    EMAIL_USE_TLS = _smtp_security == "starttls"
    EMAIL_USE_SSL = _smtp_security == "ssl"
    EMAIL_TIMEOUT = env_int("SMTP_TIMEOUT", 20)
else:
    # Embedded default: every sent message is also written as a file under var/mail/.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 10)
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 60)  # doubles per attempt, at most 1 hour
OUTBOX_CLAIM_TIMEOUT = env_int("OUTBOX_CLAIM_TIMEOUT", 600)

# --- Files ----------------------------------------------------------------------------------
# Uploaded documents are private: stored outside the web root, served only through views that
# check who may see them. There is deliberately no public MEDIA_URL.
MEDIA_ROOT = Path(env("FILES_DIR", str(DATA_DIR / "files")) or "").resolve()
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "zairyu_lang"
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_I18N = True
TIME_ZONE = "Asia/Tokyo"
USE_TZ = True

# --- Authentication -------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "accounts:home"
# Used in links sent by e-mail. Unset, it is the development server's own address: `make run` and
# `manage.py serve --port N` export PORT, so links follow the port the server listens on.
SITE_URL = env("SITE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
LOGIN_FAILURE_LIMIT = 5  # F-15: five wrong passwords lock the account …
LOGIN_LOCK_HOURS = 24  # … for 24 hours
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 30)  # failed sign-ins per address per 15 minutes
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60)
# A second factor (TOTP) is required for these user categories (ASVS 5.0 level 2, GビズID).
MFA_REQUIRED_KINDS = env_list("MFA_REQUIRED_KINDS", "U4,U5,U6,U7,officer")
PASSWORD_MAX_AGE_DAYS = env_int("PASSWORD_MAX_AGE_DAYS", 0)  # 0 = passwords do not expire (NIST SP 800-63B)
EXPIRY_REMINDER_DAYS = (30, 7)
CARD_CHALLENGE_SECONDS = 300
# Passkeys (WebAuthn, ADR 0012): the relying party ID; empty = the host name of SITE_URL, or
# "localhost" when that is an IP address (an RP ID cannot be one).
WEBAUTHN_RP_ID = env("WEBAUTHN_RP_ID", "") or ""
WEBAUTHN_CHALLENGE_SECONDS = 300
ORGANIZATION_USER_VALIDITY_DAYS = env_int("ORGANIZATION_USER_VALIDITY_DAYS", 365)
# JPKI simulation: the trusted (demo) CA certificate and its CRL; the demo CA lives here too.
JPKI_DIR = Path(env("JPKI_DIR", str(DATA_DIR / "jpki")) or "").resolve()
# F-01: networks the applicant side may be reached from (CIDR, comma-separated); empty = open.
APPLICANT_NETWORKS = env_list("APPLICANT_NETWORKS", "")
# Reverse proxies whose X-Forwarded-For is believed (CIDR, comma-separated); empty = none.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
# Where the page finds the local card program (python -m zairyu.jpki.card bridge).
CARD_BRIDGE_URL = env("CARD_BRIDGE_URL", "http://127.0.0.1:8765")

# --- Security -------------------------------------------------------------------------------
SECURE = env_bool("SECURE", PRODUCTION)  # served over HTTPS
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "zairyu_session"
CSRF_COOKIE_NAME = "zairyu_csrf"
SESSION_COOKIE_AGE = 12 * 60 * 60  # absolute limit; the idle limit is enforced by the accounts app
SECURE_SSL_REDIRECT = SECURE and env_bool("SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000) if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # larger uploads go to a temporary file, not memory
DATA_UPLOAD_MAX_NUMBER_FILES = 20
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)  # one PDF (F-04; configurable)
APPLICATION_MAX_BYTES = env_int("APPLICATION_MAX_BYTES", 25 * 1024 * 1024)  # all files of one application
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 50 * 1024)
# Every upload is scanned by ClamAV's clamd (ADR 0013): unix:///run/clamav/clamd.ctl or
# tcp://127.0.0.1:3310. Unset: no scanner (the embedded default), files are accepted unscanned.
CLAMD = env("CLAMD", "") or ""
# Scanner unreachable: refuse the upload (fail closed) or hold the file until a rescan (fail open).
SCAN_FAIL_CLOSED = env_bool("SCAN_FAIL_CLOSED", PRODUCTION)
CLAMD_TIMEOUT = env_int("CLAMD_TIMEOUT", 30)  # seconds for clamd's answer to one file
CLAMD_STREAM_MAX_BYTES = env_int("CLAMD_STREAM_MAX_BYTES", 25 * 1024 * 1024)  # clamd's StreamMaxLength
DRAFT_LIFETIME_DAYS = env_int("DRAFT_LIFETIME_DAYS", 90)  # an untouched draft is deleted after this …
DRAFT_WARNING_DAYS = env_int("DRAFT_WARNING_DAYS", 7)  # … with an e-mail this many days before
ECOE_SIGNING_KEY = env(
    "ECOE_SIGNING_KEY", str(DATA_DIR / "keys" / "ecoe-signing.pem")
)  # Ed25519, created on first use
REVIEW_PAYMENT_PROVIDER = env("REVIEW_PAYMENT_PROVIDER", "zairyu.review.payments.DemoPaymentProvider")
ECOE_VERIFY_LIMIT_PER_HOUR = env_int(
    "ECOE_VERIFY_LIMIT_PER_HOUR", 60
)  # public verification checks per address
MYNAPORTAL_CLIENT = env("MYNAPORTAL_CLIENT", "zairyu.applications.mynaportal.DemoMynaportal")
CROSSCHECK_MISMATCH_LIMIT = env_int("CROSSCHECK_MISMATCH_LIMIT", 10)  # identity mismatches per user per hour
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# --- Logging --------------------------------------------------------------------------------
# Personal data never goes to logs: the redaction filter masks e-mail addresses, residence-card
# numbers, phone numbers and long digit runs as a last line of defence; code logs IDs, not names.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "zairyu.core.logging.RedactPersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "faker": {"level": "WARNING"},
    },
}

# --- Zairyu ---------------------------------------------------------------------------------
DEMO_SEED = env_int("DEMO_SEED", 20261121)
DEMO_RESIDENTS = env_int("DEMO_RESIDENTS", 3000)
DEMO_PASSWORD = env("DEMO_PASSWORD", "zairyu-demo-2026")  # demo accounts only; refused in production
DEMO_PORT = os.environ.get("PORT", "8000")  # only printed in the demo banner
HEALTHZ_BROKER_TIMEOUT = float(env("HEALTHZ_BROKER_TIMEOUT", "2") or 2)
SITE_NAME = _("Zairyu online residence applications")

# --- API (/api/v1/, OAuth 2.0 authorization code with PKCE; docs/api.md, ADR 0011) -------------
API_SCOPES = {
    "applications:read": _("See your applications and their status"),
    "applications:write": _("Prepare applications for you: drafts, answers and attachments"),
    "applications:submit": _("Submit applications for you and ask for changes after submission"),
    "bulk": _("Upload bulk files for you and read their results"),
}
OAUTH2_PROVIDER = {
    "SCOPES": {name: name for name in API_SCOPES},  # labels: API_SCOPES (translated)
    "DEFAULT_SCOPES": ["applications:read"],
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("API_ACCESS_TOKEN_SECONDS", 15 * 60),  # short-lived
    "REFRESH_TOKEN_EXPIRE_SECONDS": 90 * 24 * 60 * 60,  # never beyond the user's authorisation
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REQUEST_APPROVAL_PROMPT": "force",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["http", "https"],
    "ALLOW_LOCALHOST_LOOPBACK": True,  # RFC 8252: native apps on 127.0.0.1 with any port
    "OAUTH2_VALIDATOR_CLASS": "zairyu.api.oauth.ZairyuOAuth2Validator",
    "CLIENT_SECRET_HASHER": "default",
    # RFC 9700 (OAuth 2.0 Security BCP): no implicit or password grant, S256 only, tokens never in
    # the query string, `iss` in the authorization response (RFC 9207), tokens stored hashed.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # named, so migrations can refer to it
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 (a model name)
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105
API_RATE_PER_CLIENT_PER_MINUTE = env_int("API_RATE_PER_CLIENT_PER_MINUTE", 6000)
API_RATE_PER_USER_PER_MINUTE = env_int("API_RATE_PER_USER_PER_MINUTE", 600)
API_RATE_ANONYMOUS_PER_MINUTE = env_int(
    "API_RATE_ANONYMOUS_PER_MINUTE", 120
)  # public operations, per address
API_PAGE_SIZE_MAX = 100
API_IDEMPOTENCY_HOURS = 24
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", not PRODUCTION)  # http://127.0.0.1 receivers
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 12)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)  # doubles per attempt, at most 6 hours
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
