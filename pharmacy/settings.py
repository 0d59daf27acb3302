"""Settings for the LDN pharmacy, read from environment variables only.

Unset variables fall back to a self-contained development set-up: SQLite in the project folder,
Celery tasks run in-process after the commit, mail printed to the console (or to EMAIL_FILE_PATH).
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
_DEV_SECRET_KEY = "dev-only-insecure-key-0b6f8c1e9d7a4e2f8a3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Where links in notifications point (the patient's questionnaire, the status page).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
PHARMACY_NAME = env_str("PHARMACY_NAME", "Demo Compounding Pharmacy")
PHARMACY_ADDRESS = env_str("PHARMACY_ADDRESS", "100 Apothecary Way, Austin, TX 78701")
PHARMACY_PHONE = env_str("PHARMACY_PHONE", "+1 512 555 0100")
PHARMACY_EMAIL = env_str("PHARMACY_EMAIL", "pharmacy@demo.test")

# Shipping labels: "manual" (staff type the carrier and tracking number) or "easypost" (labels bought
# through EasyPost for the patient's address).
SHIPPING_BACKEND = env_str("SHIPPING_BACKEND", "manual")
if SHIPPING_BACKEND not in ("manual", "easypost"):
    raise ImproperlyConfigured(f"SHIPPING_BACKEND must be manual or easypost, not {SHIPPING_BACKEND!r}")
EASYPOST_API_KEY = env_str("EASYPOST_API_KEY", "")
EASYPOST_API_BASE = env_str("EASYPOST_API_BASE", "")  # empty: EasyPost's own (https://api.easypost.com/v2)
# How long the ship page keeps a carrier's rates for one address (each quote is a shipment at the
# carrier; buying always quotes afresh).
SHIPPING_RATES_CACHE_SECONDS = env_int("SHIPPING_RATES_CACHE_SECONDS", 300)
# The carriers and services the pharmacy buys (empty: any EasyPost offers); the cheapest is bought.
SHIPPING_CARRIERS = env_list("SHIPPING_CARRIERS", ["USPS", "UPS"])
SHIPPING_SERVICES = env_list("SHIPPING_SERVICES", [])
# A month of LDN capsules in a padded mailer: ounces and inches, as EasyPost takes them.
SHIPPING_PARCEL = {
    "length": env_float("SHIPPING_PARCEL_LENGTH_IN", 8),
    "width": env_float("SHIPPING_PARCEL_WIDTH_IN", 6),
    "height": env_float("SHIPPING_PARCEL_HEIGHT_IN", 2),
    "weight": env_float("SHIPPING_PARCEL_WEIGHT_OZ", 4),
}
# The return address printed on labels.
SHIPPING_FROM_ADDRESS = {
    "company": PHARMACY_NAME,
    "street1": env_str("SHIPPING_FROM_STREET1", "100 Apothecary Way"),
    "street2": env_str("SHIPPING_FROM_STREET2", ""),
    "city": env_str("SHIPPING_FROM_CITY", "Austin"),
    "state": env_str("SHIPPING_FROM_STATE", "TX"),
    "zip": env_str("SHIPPING_FROM_ZIP", "78701"),
    "country": "US",
    "phone": PHARMACY_PHONE,
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    "django_prometheus",
    "accounts",
    "intake",
]

MIDDLEWARE = [
    "intake.middleware.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "intake.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "intake.middleware.SessionIdleRefreshMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Patient pages in the patient's language (?lang=, cookie, the patient's own, the browser's).
    "intake.languages.PatientLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Staff who enrolled a second factor (and pharmacists, when required) verify it before any page.
    "intake.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    # SQLite's write lock not had within the timeout: 503 "try again" rather than a 500.
    "intake.middleware.DatabaseBusyMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# /health/ fails when a notification has waited longer than this for delivery.
HEALTH_OUTBOX_MAX_AGE_SECONDS = env_int("HEALTH_OUTBOX_MAX_AGE_SECONDS", 15 * 60)
# /metrics answers a scrape that meets each one set: the bearer token, a client address in the list
# (addresses or CIDR blocks). Neither set: open while DEBUG is on, refused (403) when it is off.
METRICS_BEARER_TOKEN = env_str("METRICS_BEARER_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [])
for _network in METRICS_ALLOWED_IPS:
    ipaddress.ip_network(_network, strict=False)  # a typo fails at start, not at every scrape
# The dashboard lists received ingredient lots that expire within this many days.
STOCK_EXPIRY_WARNING_DAYS = env_int("STOCK_EXPIRY_WARNING_DAYS", 30)

ROOT_URLCONF = "pharmacy.urls"
WSGI_APPLICATION = "pharmacy.wsgi.application"
ASGI_APPLICATION = "pharmacy.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "intake.context_processors.pharmacy",
            ],
            # date_words, datetime_words, duration_words: one way to write dates on every page.
            "builtins": ["intake.templatetags.when"],
        },
    },
    # Jinja2 only where measured: the queue's table rows (intake/web/staff/views/queue.py).
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes and threads (web, in-process tasks, tests) write one file. A transaction
    # takes the write lock at BEGIN (IMMEDIATE), so a second writer waits there, up to the timeout,
    # then reads what the first committed: two simultaneous approvals give one approval and a 409,
    # as row locks do on PostgreSQL. A deferred BEGIN would fail at its first write instead
    # ("database is locked") without waiting. WAL lets pages read while one request writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE",
        timeout=20,
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests get a file rather than Django's shared in-memory database: threads in a test
    # (simultaneous requests) then wait for each other as separate processes do. One per test run.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"pharmacy-test-{os.getpid()}.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    database_options = DATABASES["default"].setdefault("OPTIONS", {})
    # A request waits for a row another holds at most this long, then answers 503 "try again"
    # (intake.middleware.DatabaseBusyMiddleware) rather than holding a web worker indefinitely.
    server_settings = [f"-c lock_timeout={env_int('DATABASE_LOCK_TIMEOUT_MS', 10_000)}"]
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        # Parameters bound by the server, and a statement run DATABASE_PREPARE_THRESHOLD times on a
        # connection is prepared there: PostgreSQL parses it once per connection instead of once per
        # request. Off (DATABASE_PREPARED_STATEMENTS=false) behind a transaction-mode PgBouncer.
        # Planned for each run's own values: a plan blind to the bound status walks the date index for a rare one.
        database_options.update(server_side_binding=True, prepare_threshold=env_int("DATABASE_PREPARE_THRESHOLD", 2))
        server_settings.append("-c plan_cache_mode=force_custom_plan")
    database_options["options"] = " ".join([database_options.get("options", ""), *server_settings]).strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PharmacyBackend",
]
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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The client's address for throttles, the audit trail and the sign-in lockout (intake.audit.client_ip).
# On only behind one trusted reverse proxy: then the last X-Forwarded-For entry, the one it appended.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)

# Brute force (accounts/lockout.py): ten wrong passwords in a row for one account lock that account,
# from wherever they came; more from one client address lock that address, for every account, so
# that one address cannot keep many accounts locked. An address gets more than an account: a
# pharmacy's staff share one. A lock lasts the cool-off; tries refused during it do not prolong it.
LOCKOUT_FAILURES_PER_ACCOUNT = env_int("AXES_FAILURE_LIMIT", 10)
LOCKOUT_FAILURES_PER_ADDRESS = max(env_int("AXES_FAILURE_LIMIT_PER_ADDRESS", 30), LOCKOUT_FAILURES_PER_ACCOUNT)
AXES_FAILURE_LIMIT = "accounts.lockout.failure_limit"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "accounts.lockout.sign_in_username"
AXES_CLIENT_IP_CALLABLE = "intake.audit.client_ip"
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A sign-in clears that account's failures only, not its address's (accounts.lockout).
AXES_RESET_ON_SUCCESS = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Sessions end after 15 minutes without a request (HIPAA automatic log-off).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 15 * 60)
# Long forms show the time left and warn this long before the end, offering to stay signed in.
SESSION_WARNING_SECONDS = env_int("SESSION_WARNING_SECONDS", 2 * 60)
# API tokens: a pharmacy shift for staff (never more than a day), a month for a prescriber's EHR.
API_TOKEN_HOURS_STAFF = min(env_int("API_TOKEN_HOURS_STAFF", 12), 24)
API_TOKEN_HOURS_PRESCRIBER = env_int("API_TOKEN_HOURS_PRESCRIBER", 30 * 24)
# The idle limit is pushed back by intake.middleware.SessionIdleRefreshMiddleware, once a minute.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers and Prometheus ask over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Second factor (django-otp TOTP): optional for staff, required of pharmacists when this is on.
# Web sessions only; API tokens are not asked for a code (see intake/middleware.py).
PHARMACIST_TOTP_REQUIRED = env_bool("PHARMACIST_TOTP_REQUIRED", False)
OTP_TOTP_ISSUER = PHARMACY_NAME
# Axes answers an XMLHttpRequest lockout with JSON; only our own pages may read it.
AXES_ALLOWED_CORS_ORIGINS = SITE_URL

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Staff pages are English; patient pages follow the patient (intake/languages.py).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "intake.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bounded in size and nesting (a deeply nested body would otherwise be a 500).
    "DEFAULT_PARSER_CLASSES": [
        "intake.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "intake.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        # Wrong birth dates: per client, and per order number (intake/throttles.py says how they combine).
        "patient_lookup": env_str("THROTTLE_PATIENT_LOOKUP", "5/15min"),
        "patient_lookup_daily": env_str("THROTTLE_PATIENT_LOOKUP_DAILY", "50/day"),
        "patient_reference": env_str("THROTTLE_PATIENT_REFERENCE", "10/day"),
        "questionnaire": env_str("THROTTLE_QUESTIONNAIRE", "20/min"),
        # The carrier's tracking webhooks, per client address (a busy day's parcels fit well within).
        "carrier_webhook": env_str("THROTTLE_CARRIER_WEBHOOK", "300/min"),
        # Twilio's delivery status callbacks, per client address (up to three a text).
        "sms_status_webhook": env_str("THROTTLE_SMS_STATUS_WEBHOOK", "600/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LDN Pharmacy API",
    "DESCRIPTION": "Prescriptions, the patient questionnaire and the pharmacy workflow.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two fields named "status": a prescription's, and a webhook delivery's.
    "ENUM_NAME_OVERRIDES": {
        "PrescriptionStatusEnum": "intake.models.PrescriptionStatus.choices",
        "DeliveryStatusEnum": "intake.models.DeliveryStatus.choices",
        "BatchStatusEnum": "intake.models.BatchStatus.choices",
        "DocumentKindEnum": "intake.models.DocumentKind.choices",
    },
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("CACHE_URL")}
        if env_str("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# With a shared cache (Redis) sessions are read from it and written through to the database; a
# per-process memory cache would let one process keep a session another has ended.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db" if env_str("CACHE_URL") else "django.contrib.sessions.backends.db"
)

# Celery: with no broker the same tasks run in-process, after the commit that queued them.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Task arguments are ids only: JSON, never pickle. No result backend, so no result can hold patient data.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_STORE_EAGER_RESULT = False
# A task is acknowledged when it has finished, so a worker that dies mid-task does not lose it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 90)
# Publishing happens after a commit, in the web request: fail fast instead of stalling it. An
# unpublished notification waits for the periodic re-queue (intake/notifications/outbox.py).
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 2,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    # A retry's countdown stays well below this, or Redis would hand the message out twice.
    "visibility_timeout": 3600,
}
# Keep Django's LOGGING (and its patient-data filter) in the worker.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "notifications-requeue": {
        "task": "intake.notifications_requeue",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    # The pharmacy's clock, questionnaire reminders included (intake/services/timers.py): each timer
    # is idempotent, so running it every 15 minutes only decides how soon after its moment it fires.
    # The carrier's check of addresses it has not answered for (only with SHIPPING_BACKEND=easypost).
    "addresses-check": {
        "task": "intake.addresses_check",
        "schedule": timedelta(minutes=2),
        "options": {"expires": 110},
    },
    "pharmacy-clock": {
        "task": "intake.pharmacy_clock",
        "schedule": timedelta(minutes=15),
        "options": {"expires": 14 * 60},
    },
}
NOTIFICATION_RETRY_AFTER_SECONDS = env_int("NOTIFICATION_RETRY_AFTER_SECONDS", 120)
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 5)
# Webhooks for prescribers' systems (intake/notifications/webhooks.py). An endpoint whose address is
# loopback, private, link-local, multicast or reserved is refused, and plain http with it, unless
# this is on (a test harness, a pharmacy network whose prescribers' systems sit inside it).
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", False)
# Tries of one delivery: 30 s, then doubling up to an hour between tries, about nine hours in all.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 16)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# The secret EasyPost signs its tracking webhooks with; empty refuses every call to /webhooks/easypost/.
EASYPOST_WEBHOOK_SECRET = env_str("EASYPOST_WEBHOOK_SECRET", "")
# Documents prescribers attach (prior labs): kept outside the static and media roots, so the web
# server never serves them; only the pharmacy's audited download view reads them back.
PRIVATE_DOCUMENTS_ROOT = Path(env_str("PRIVATE_DOCUMENTS_ROOT", str(BASE_DIR / "var" / "private-documents")))
DOCUMENT_MAX_MB = env_int("DOCUMENT_MAX_MB", 10)
QUESTIONNAIRE_LINK_DAYS = env_int("QUESTIONNAIRE_LINK_DAYS", 30)

# Price and consent: every approved fill is quoted from intake/clinical/data/prices.json; with
# PRICE_CONSENT_REQUIRED the patient agrees to the price on the status page before compounding
# starts. PAYMENT_LINK_URL, shown once they agree, is the pharmacy's own payment page ("{reference}"
# is replaced by the order number); no card data is ever taken or kept here.
PRICE_CONSENT_REQUIRED = env_bool("PRICE_CONSENT_REQUIRED", False)
PAYMENT_LINK_URL = env_str("PAYMENT_LINK_URL", "").strip()
if PAYMENT_LINK_URL and not PAYMENT_LINK_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"PAYMENT_LINK_URL must be an http(s) address, not {PAYMENT_LINK_URL!r}")
QUESTIONNAIRE_REMINDER_HOURS = env_int("QUESTIONNAIRE_REMINDER_HOURS", 48)
# The clock. Where a prescription idles in a staff status longer than this, the queue
# shows it as overdue.
QUEUE_OVERDUE_HOURS = env_int("QUEUE_OVERDUE_HOURS", 24)
# The queue's tab counts are cached this long (and forgotten when a status change commits).
QUEUE_COUNTS_SECONDS = env_int("QUEUE_COUNTS_SECONDS", 5)
# Each process reads the offered dosage forms again after this long (DosageForm.objects.offered).
FORMULARY_CACHE_SECONDS = env_int("FORMULARY_CACHE_SECONDS", 30)
# Each process reads the pharmacy's state licences again after this long (StateLicence.objects.valid_states).
LICENCE_CACHE_SECONDS = env_int("LICENCE_CACHE_SECONDS", 30)
HOLD_ESCALATION_DAYS = env_int("HOLD_ESCALATION_DAYS", 3)
REFILL_REMINDER_DAYS = env_int("REFILL_REMINDER_DAYS", 7)
FOLLOW_UP_AFTER_DAYS = env_int("FOLLOW_UP_AFTER_DAYS", 14)
# Where escalations of a prescription left on hold go.
LEAD_PHARMACIST_EMAIL = env_str("LEAD_PHARMACIST_EMAIL", PHARMACY_EMAIL)
SMS_BACKEND = env_str("SMS_BACKEND", "intake.notifications.sms.LogSmsBackend")
# Twilio (SMS_BACKEND=intake.notifications.sms.TwilioSmsBackend): the account, and the sender: a
# Messaging Service when its SID is set, else the one number. Delivery news comes back to
# SITE_URL + /webhooks/twilio/status/, signed with the auth token.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID")
TWILIO_TIMEOUT_SECONDS = env_int("TWILIO_TIMEOUT_SECONDS", 10)
if SMS_BACKEND == "intake.notifications.sms.TwilioSmsBackend":
    _twilio_missing = [
        name
        for name, value in (("TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT_SID), ("TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN))
        if not value
    ]
    if not (TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID):
        _twilio_missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
    if _twilio_missing:
        raise ImproperlyConfigured(f"SMS_BACKEND is Twilio but these are not set: {', '.join(_twilio_missing)}")

EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# Without an SMTP server mail is written to the console, or to one file per sending in
# EMAIL_FILE_PATH (a folder) when that is set: the demo keeps its seed mail out of the terminal.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif EMAIL_FILE_PATH:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{PHARMACY_NAME} <{PHARMACY_EMAIL}>")

# "plain" for people, "json" (one object a line) for a log collector; see intake/logging.py.
LOG_FORMAT = env_str("LOG_FORMAT") or "plain"
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_phi": {"()": "intake.logging.RedactPatientDataFilter"},
        "request_id": {"()": "intake.logging.RequestIdFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"},
        "json": {"()": "intake.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id", "redact_phi"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "WARNING"},
    },
}

# Error reports (pharmacy/error_reports.py): sent only where a DSN is set, scrubbed of patient data.
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from pharmacy.error_reports import error_reports_start

    error_reports_start(dsn=SENTRY_DSN, environment=env_str("SENTRY_ENVIRONMENT", "production"))
