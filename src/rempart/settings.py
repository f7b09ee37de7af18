"""Django settings for rempart, read from the environment (see rempart.config and docs/operations.md)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from rempart import config

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = config.project_var_dir()

SECRET_KEY = config.secret_key(VAR_DIR)
DEBUG = config.flag("REMPART_DEBUG", False)
ALLOWED_HOSTS = config.allowed_hosts()
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("REMPART_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "csp",
    "ninja",  # its static files: Swagger UI at /api/docs served by the platform, no CDN
    "django_otp",  # before rempart.prevention, whose admin replaces its TOTP device admin
    "django_otp.plugins.otp_totp",
    "rempart.core",
    "rempart.assess",
    "rempart.access",
    "rempart.practices",
    "rempart.exercises",
    "rempart.funding",
    "rempart.prevention",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "rempart.core.middleware.NoStoreMiddleware",
    "rempart.core.api_errors.ApiErrorMiddleware",  # JSON errors and no NUL on /api/
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "rempart.core.body_limit.BodyLimitMiddleware",
    "rempart.core.accounts.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "rempart.core.middleware.AuditContextMiddleware",
    "rempart.core.middleware.CityTimezoneMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rempart.urls"
WSGI_APPLICATION = "rempart.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rempart.core.context.navigation",
            ],
        },
    },
]

DATABASES = {"default": config.database_config(VAR_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): 5 failures lock the username+address pair for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "rempart.core.accounts.lockout_response"  # our page, duration in words

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = config.time_zone()
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Leaflet and Leaflet.draw come from the django-leaflet package, served by us (no CDN). Its Django
# app is not installed: its admin widgets need GDAL, which rempart does not use.
STATICFILES_DIRS = [Path(importlib.util.find_spec("leaflet").origin).parent / "static"]  # type: ignore[arg-type,union-attr]
MEDIA_ROOT = VAR_DIR / "media"
#: OpenStreetMap files are registered only from here (REMPART_MAP_DIR, default var/maps).
MAP_DIR = config.map_dir(VAR_DIR)
# Input limits, read by rempart.inputs when used; checked here so a bad value stops start-up.
for _limit in (
    "REMPART_MAX_UPLOAD_MB",
    "REMPART_MAX_FEATURES",
    "REMPART_MAX_VERTICES",
    "REMPART_MAX_ROWS",
):
    config.positive_int(_limit, 1)
WHITENOISE_USE_FINDERS = DEBUG

# Security headers. HTTPS-only flags follow REMPART_HTTPS (a reverse proxy terminating TLS).
HTTPS = config.flag("REMPART_HTTPS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None

# Permissions-Policy: the platform uses none of these browser features; no page (nor anything
# injected into one) may ask for them.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# Content security policy: everything is served by the platform itself (no CDN, works offline).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# The audit trail: the key of its HMAC chain, kept outside the database, and the signed
# checkpoints of its head written outside the database (rempart.core.audit_checkpoints).
AUDIT_KEY = config.audit_key(VAR_DIR)
# casework asks for a second factor (rempart.prevention.two_factor); off only for tests
PREVENTION_REQUIRE_2FA = config.flag("REMPART_PREVENTION_REQUIRE_2FA", True)
AUDIT_CHECKPOINT_FILE = config.audit_checkpoint_file(VAR_DIR)
AUDIT_CHECKPOINT_SYSLOG = config.audit_checkpoint_syslog()
AUDIT_CHECKPOINT_EVERY = config.positive_int("REMPART_AUDIT_CHECKPOINT_EVERY", 100)
AUDIT_CHECKPOINT_SECONDS = config.positive_int("REMPART_AUDIT_CHECKPOINT_SECONDS", 60)

# E-mail (password reset, notifications): the console unless REMPART_EMAIL_HOST names an SMTP server.
_EMAIL = config.email_settings()
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
DEFAULT_FROM_EMAIL = _EMAIL["DEFAULT_FROM_EMAIL"]
EMAIL_HOST = _EMAIL.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _EMAIL.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _EMAIL.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _EMAIL.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = _EMAIL.get("EMAIL_TIMEOUT")
PASSWORD_RESET_TIMEOUT = 3600  # a reset link works for one hour
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address people open, for the links in e-mails.
REMPART_SITE_URL = config.site_url()

LOG_LEVEL = config.log_level()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "rempart": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Optional base-map tiles (e.g. a city's own tile server). Empty: the map draws streets from the
# OSM data the platform already holds, so it works offline.
REMPART_TILE_URL = os.environ.get("REMPART_TILE_URL", "")
# A control-room live stream with nothing new sends a comment after this many seconds: it keeps
# proxies from closing an idle stream and is how the server learns that the browser has gone.
ACCESS_STREAM_KEEPALIVE_S = 15.0
# A grant not executed within this many seconds of its read is never executed (it expires): the
# vehicle it was for has gone (rempart.access.grants).
ACCESS_GRANT_MAX_AGE_S = config.seconds("REMPART_ACCESS_GRANT_MAX_AGE_S", 30.0, 600.0)

# Funding: where `rempart funding sync` reads the EU Funding & Tenders portal (docs/funding.md).
FUNDING_SEARCH_URL = os.environ.get(
    "REMPART_FUNDING_SEARCH_URL", "https://api.tech.ec.europa.eu/search-api/prod/rest/search"
)
FUNDING_TOPIC_URL = os.environ.get(
    "REMPART_FUNDING_TOPIC_URL",
    "https://ec.europa.eu/info/funding-tenders/opportunities/data/topicDetails",
)
# Alarms (rempart.access.alarms): a high-priority alarm unacknowledged this long is escalated to
# the city's access supervisors; priorities per alarm type override the defaults
# ("fault=high,interlock=low"); procedures per type may be replaced here (a dict type -> text).
ACCESS_ALARM_ESCALATE_AFTER_S = config.seconds(
    "REMPART_ACCESS_ALARM_ESCALATE_AFTER_S", 120.0, 86400.0
)
ACCESS_ALARM_PRIORITIES = os.environ.get("REMPART_ACCESS_ALARM_PRIORITIES", "")
ACCESS_ALARM_PROCEDURES: dict[str, str] = {}
