"""Django settings for Calma, read from the environment.

With no DATABASE_URL / REDIS_URL the project runs on an embedded default that needs no
system service: SQLite in ./var and Celery on kombu's filesystem broker (a real worker
and beat, the same task code). Production sets DATABASE_URL (Postgres) and REDIS_URL.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CALMA_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for local development).")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "crisis.apps.CalmaAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "crisis.apps.CrisisConfig",
    "crisis.people",
    "crisis.notifications",
    "monitoring",
    "protocols",
    "crisis.incidents",
    "crisis.replies",
    "crisis.rooms",
    "crisis.board",
    "crisis.drills",
    "axes",  # login throttling and lockout; listed last as its documentation asks
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Django 6 has its own CSP middleware; on 5.2 LTS a small one sets the same header.
    "django.middleware.csp.ContentSecurityPolicyMiddleware"
    if django.VERSION >= (6, 0)
    else "crisis.middleware.ContentSecurityPolicyMiddleware",
    "crisis.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The signed-in person's own time zone for the request (read once per session).
    "crisis.people.preferences.ProfileTimeZoneMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: turns a locked-out sign-in into the login page with its message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crisis.urls"
WSGI_APPLICATION = "crisis.wsgi.application"

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
                "crisis.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "calma.sqlite3",
            # Web, worker and beat share the file: WAL + immediate transactions avoid lock errors.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and the shared cache ----------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Parallel test processes (pytest-xdist sets PYTEST_XDIST_WORKER=gw0, gw1, ...) each use
# their own Redis database so that their Celery queues and cache keys never mix.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _xdist_worker.startswith("gw"):
    REDIS_URL = f"{REDIS_URL.rstrip('/').rsplit('/', 1)[0]}/{1 + int(_xdist_worker[2:])}"

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "calma",
        }
    }
else:
    # kombu's filesystem transport with atomic writes (crisis/embedded_broker.py explains the
    # race that killed the worker): one machine, demo and evaluation, not production.
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "crisis.embedded_broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        # A message is claimed by renaming it here (same filesystem), then deleted.
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # Exchange tables; kombu's default is a "control" folder in the current directory.
        "control_folder": str(_broker_dir / "control"),
    }
    # No remote control: its "pidbox" fanout exchange is one more file that every worker
    # rewrites (the race of kombu #1551); `celery inspect` needs Redis.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }

CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-polls": {
        "task": "monitoring.tasks.dispatch_due_polls",
        "schedule": float(os.environ.get("POLL_DISPATCH_SECONDS", "5")),
        "options": {"expires": 30},
    },
    # Mentions stored but never scored (the broker was down at the hand-off, a worker died).
    "sweep-unscored-mentions": {
        "task": "protocols.tasks.sweep_unscored_mentions",
        "schedule": float(os.environ.get("SCORING_SWEEP_EVERY_SECONDS", "60")),
        "options": {"expires": 50},
    },
    # Scores the incident stage never saw (the broker was down at the hand-off, a worker died).
    "sweep-scores-not-handed-off": {
        "task": "protocols.tasks.sweep_scores_not_handed_off",
        "schedule": float(os.environ.get("SCORING_SWEEP_EVERY_SECONDS", "60")),
        "options": {"expires": 50},
    },
}
# Notification e-mails whose hand-off was lost (broker down at the commit, retries spent).
CELERY_BEAT_SCHEDULE["sweep-unsent-notification-emails"] = {
    "task": "crisis.notifications.tasks.sweep_unsent_emails",
    "schedule": 60.0,
    "options": {"expires": 50},
}
# The SLA clock acts: warn owners, record breaches, tell supervisors, hand back to routing.
CELERY_BEAT_SCHEDULE["sweep-sla"] = {
    "task": "crisis.incidents.tasks.sweep_sla",
    "schedule": 60.0,
    "options": {"expires": 50},
}
# Untouched incidents of managers whose shift ended go back to routing.
CELERY_BEAT_SCHEDULE["hand-back-at-shift-end"] = {
    "task": "crisis.incidents.tasks.hand_back_at_shift_end",
    "schedule": 60.0,
    "options": {"expires": 50},
}
# The unassigned queue is routed again: it drains as managers come on shift or get room, and
# incidents whose routing task was lost (broker down at open) are routed.
CELERY_BEAT_SCHEDULE["route-waiting-incidents"] = {
    "task": "crisis.incidents.tasks.route_waiting_incidents",
    "schedule": 60.0,
    "options": {"expires": 50},
}
# Replies: drafts waiting too long for approval escalate; sends left "sending" by a dead
# worker are retried; overdue private follow-ups notify their owner; contact details past
# their retention are erased; approved moderation left undone is carried out.
for _name in (
    "escalate_waiting_approvals",
    "sweep_stuck_sends",
    "notify_overdue_follow_ups",
    "erase_expired_contacts",
    "sweep_approved_moderation",
):
    CELERY_BEAT_SCHEDULE[f"replies-{_name}"] = {
        "task": f"crisis.replies.tasks.{_name}",
        "schedule": 60.0,
        "options": {"expires": 50},
    }
# Crisis rooms: overdue plan tasks notify their owner; a statement update coming due notifies
# the spokesperson; publications left "publishing" by a dead worker are retried.
for _name in ("notify_overdue_tasks", "notify_statement_updates_due", "sweep_stuck_publications"):
    CELERY_BEAT_SCHEDULE[f"rooms-{_name}"] = {
        "task": f"crisis.rooms.tasks.{_name}",
        "schedule": 60.0,
        "options": {"expires": 50},
    }
# Outgoing webhook deliveries whose hand-off was lost or whose retries ran out of time.
CELERY_BEAT_SCHEDULE["sweep-webhook-deliveries"] = {
    "task": "crisis.notifications.tasks.sweep_webhook_deliveries",
    "schedule": 60.0,
    "options": {"expires": 50},
}
# Board: recent rollup buckets are recomputed from the raw tables (anything the live
# maintenance missed is corrected); the daily digest goes out once a day per recipient.
# How many recent hours the beat recomputes; from which local hour yesterday's digest is sent;
# how long a surge alert keeps the board's headline on "watch".
BOARD_ROLLUP_CORRECTION_HOURS = int(os.environ.get("BOARD_ROLLUP_CORRECTION_HOURS", "48"))
BOARD_DIGEST_HOUR = int(os.environ.get("BOARD_DIGEST_HOUR", "7"))
BOARD_WATCH_HOURS = int(os.environ.get("BOARD_WATCH_HOURS", "3"))
CELERY_BEAT_SCHEDULE["board-correct-rollups"] = {
    "task": "crisis.board.tasks.correct_recent_rollups",
    "schedule": float(os.environ.get("BOARD_ROLLUP_CORRECTION_SECONDS", "300")),
    "options": {"expires": 280},
}
CELERY_BEAT_SCHEDULE["board-send-daily-digests"] = {
    "task": "crisis.board.tasks.send_daily_digests",
    "schedule": 600.0,
    "options": {"expires": 550},
}
# Drills: each running drill ticks every DRILL_TICK_SECONDS (each tick schedules the next);
# the beat restarts a drill whose ticks stopped.
DRILL_TICK_SECONDS = float(os.environ.get("DRILL_TICK_SECONDS", "2"))
CELERY_BEAT_SCHEDULE["drills-restart-stalled"] = {
    "task": "crisis.drills.tasks.restart_stalled_drills",
    "schedule": 15.0,
    "options": {"expires": 14},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Monitoring -------------------------------------------------------------------------
MONITORING = {
    # A poller's claim on a source, renewed before each page fetch and with each page commit.
    # One left behind (a killed worker, a release that failed while the database was down)
    # lapses after this long, so keep it short, yet above one page fetch (5 s to connect +
    # HTTP_TIMEOUT_SECONDS) so that a slow page does not cost the lease.
    "LEASE_SECONDS": env_int("POLL_LEASE_SECONDS", 30),
    "HTTP_TIMEOUT_SECONDS": float(os.environ.get("POLL_HTTP_TIMEOUT_SECONDS", "20")),
    "MAX_PAGES_PER_POLL": env_int("POLL_MAX_PAGES", 20),
    "BACKOFF_BASE_SECONDS": env_int("POLL_BACKOFF_BASE_SECONDS", 5),
    "BACKOFF_MAX_SECONDS": env_int("POLL_BACKOFF_MAX_SECONDS", 900),
    "FAILING_AFTER": env_int("POLL_FAILING_AFTER", 5),
    # The validation boundary (monitoring.connectors.boundary): an item dated further ahead
    # of the server clock than this is quarantined, as its timeline would be a lie.
    "MAX_FUTURE_SECONDS": env_int("MONITORING_MAX_FUTURE_SECONDS", 600),
    # Items waiting for review per source; beyond it they are counted, dropped and alerted,
    # so a flood of junk cannot fill the database.
    "QUARANTINE_CAP_PER_SOURCE": env_int("MONITORING_QUARANTINE_CAP", 10_000),
    # The next stage: one task taking the ids of newly stored mentions ("" = none).
    "NEW_MENTIONS_TASK": os.environ.get("NEW_MENTIONS_TASK", "protocols.tasks.score_new_mentions"),
}

# Time limits of the long tasks (seconds; enforced by the prefork pool, the one production
# runs). A poll is at most MAX_PAGES_PER_POLL page fetches of 5 s connect + HTTP timeout
# each, plus a minute for its commits.
POLL_SOFT_TIME_LIMIT = int(
    MONITORING["MAX_PAGES_PER_POLL"] * (5 + MONITORING["HTTP_TIMEOUT_SECONDS"]) + 60
)
POLL_TIME_LIMIT = POLL_SOFT_TIME_LIMIT + 30

SCORING = {
    # Scoring one chunk (a hand-off, a sweep batch or a rescoring chunk, at most CHUNK
    # mentions; ~1,000 take a few seconds).
    "CHUNK": env_int("SCORING_CHUNK", 1000),
    "CHUNK_SOFT_TIME_LIMIT": env_int("SCORING_CHUNK_SOFT_TIME_LIMIT", 120),
    "CHUNK_TIME_LIMIT": env_int("SCORING_CHUNK_TIME_LIMIT", 150),
    # A backtest or a rescoring after activation goes through days of mentions (at about
    # a thousand a second, ten minutes cover several hundred thousand).
    "LONG_TASK_SOFT_TIME_LIMIT": env_int("SCORING_LONG_TASK_SOFT_TIME_LIMIT", 540),
    "LONG_TASK_TIME_LIMIT": env_int("SCORING_LONG_TASK_TIME_LIMIT", 600),
    # The sweeper re-enqueues mentions stored more than SWEEP_AFTER_SECONDS ago (the
    # hand-off has had its chance) and less than SWEEP_LOOKBACK_HOURS ago (bounded scan),
    # without a score, oldest first, at most SWEEP_BATCH per run.
    "SWEEP_AFTER_SECONDS": env_int("SCORING_SWEEP_AFTER_SECONDS", 180),
    "SWEEP_LOOKBACK_HOURS": env_int("SCORING_SWEEP_LOOKBACK_HOURS", 72),
    "SWEEP_BATCH": env_int("SCORING_SWEEP_BATCH", 5000),
}
PROTOCOLS = {
    # The incident stage: one task taking the ids of newly scored mentions ("" = none). Sent
    # by name only when this process registers it, so an undeployed stage costs no errors.
    "SCORED_MENTIONS_TASK": os.environ.get(
        "SCORED_MENTIONS_TASK", "crisis.incidents.tasks.handle_scored_mentions"
    ),
    # How long the surge detector remembers that a mention was counted (protocols.velocity):
    # far longer than any redelivery of a scoring task, so none counts a mention twice.
    "COUNTED_MARKER_TTL_SECONDS": env_int("SCORING_COUNTED_MARKER_TTL_SECONDS", 24 * 3600),
    # The hand-off sweeper re-sends scores older than HANDOFF_SWEEP_AFTER_SECONDS and newer
    # than HANDOFF_SWEEP_LOOKBACK_HOURS that the incident stage has not marked as seen, live
    # mentions only, oldest first, at most HANDOFF_SWEEP_BATCH per run.
    "HANDOFF_SWEEP_AFTER_SECONDS": env_int("SCORING_HANDOFF_SWEEP_AFTER_SECONDS", 300),
    "HANDOFF_SWEEP_LOOKBACK_HOURS": env_int("SCORING_HANDOFF_SWEEP_LOOKBACK_HOURS", 24),
    "HANDOFF_SWEEP_BATCH": env_int("SCORING_HANDOFF_SWEEP_BATCH", 2000),
    # Topics an open crisis already handles, which the crisis rule never suggests again: a
    # function of a set of origins returning (origin, topic) pairs ("" = none). The crisis
    # room owns crises, so protocols asks it by name rather than importing it.
    "COVERED_TOPICS": "crisis.rooms.selectors.topics_of_open_crises",
}
# Every task is acks_late, so every task needs a limit under the visibility timeout: this
# default covers the short ones (dispatch, sweeps, e-mail) that declare none of their own.
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_TIME_LIMIT = 120
LONGEST_TASK_TIME_LIMIT = max(
    CELERY_TASK_TIME_LIMIT,
    POLL_TIME_LIMIT,
    SCORING["CHUNK_TIME_LIMIT"],
    SCORING["LONG_TASK_TIME_LIMIT"],
)
if REDIS_URL:
    # Redis hands an unacknowledged task (acks_late: its worker was killed) to another worker
    # after the visibility timeout (kombu's default: one hour). A little above the longest
    # task's hard time limit, so a task still running is never delivered twice, and a killed
    # worker's task comes back within minutes, not an hour.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": LONGEST_TASK_TIME_LIMIT + 60,
        # A broker host that does not answer fails a send in seconds, not minutes.
        "socket_connect_timeout": 5,
    }

# The local platform simulator that `make run` starts; demo sources point at it.
SIMULATOR_URL = os.environ.get("SIMULATOR_URL", "")

NOTIFICATIONS = {
    # Calma's public address, put before a notification's path in its e-mail.
    "BASE_URL": os.environ.get("CALMA_BASE_URL", "http://localhost:8000"),
    # The sweeper re-enqueues e-mails not sent EMAIL_SWEEP_AFTER_SECONDS after the
    # notification (above the e-mail task's longest retry back-off) and less than
    # EMAIL_SWEEP_LOOKBACK_HOURS ago, at most EMAIL_SWEEP_BATCH per run.
    "EMAIL_SWEEP_AFTER_SECONDS": env_int("NOTIFICATIONS_EMAIL_SWEEP_AFTER_SECONDS", 900),
    "EMAIL_SWEEP_LOOKBACK_HOURS": env_int("NOTIFICATIONS_EMAIL_SWEEP_LOOKBACK_HOURS", 24),
    "EMAIL_SWEEP_BATCH": env_int("NOTIFICATIONS_EMAIL_SWEEP_BATCH", 1000),
    # Outgoing webhooks: each POST waits at most WEBHOOK_TIMEOUT_SECONDS per step (connect,
    # each read); a failed attempt is retried after WEBHOOK_BACKOFF_SECONDS * 2^attempt
    # (jittered, at most WEBHOOK_BACKOFF_MAX_SECONDS), WEBHOOK_MAX_RETRIES times by the task,
    # then by the sweeper, until WEBHOOK_GIVE_UP_HOURS after the event. The sweeper hands a
    # pending delivery to a worker again WEBHOOK_SWEEP_AFTER_SECONDS after its hand-off.
    "WEBHOOK_TIMEOUT_SECONDS": env_int("NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS", 5),
    "WEBHOOK_BACKOFF_SECONDS": env_int("NOTIFICATIONS_WEBHOOK_BACKOFF_SECONDS", 10),
    "WEBHOOK_BACKOFF_MAX_SECONDS": env_int("NOTIFICATIONS_WEBHOOK_BACKOFF_MAX_SECONDS", 3600),
    "WEBHOOK_MAX_RETRIES": env_int("NOTIFICATIONS_WEBHOOK_MAX_RETRIES", 8),
    "WEBHOOK_GIVE_UP_HOURS": env_int("NOTIFICATIONS_WEBHOOK_GIVE_UP_HOURS", 24),
    "WEBHOOK_SWEEP_AFTER_SECONDS": env_int("NOTIFICATIONS_WEBHOOK_SWEEP_AFTER_SECONDS", 120),
    "WEBHOOK_SWEEP_BATCH": env_int("NOTIFICATIONS_WEBHOOK_SWEEP_BATCH", 500),
}

# --- Auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# axes first: it refuses a locked-out username+address before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
# Keyed by username AND client address together, so that a troll guessing passwords from
# elsewhere cannot lock the team out in the middle of a crisis.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
# The cool-off runs from the lockout: attempts during it (even the right password) neither
# count nor extend it, so it ends when the message says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "crisis.people.views.locked_out"
# The client address is REMOTE_ADDR, which a client cannot forge. Behind a TLS proxy
# (BEHIND_TLS_PROXY) REMOTE_ADDR is the proxy, so the address is the X-Forwarded-For entry
# that our own proxies appended: TRUSTED_PROXY_COUNT entries from the right (entries further
# left are whatever the client claimed). See crisis/people/addresses.py.
TRUSTED_PROXY_COUNT = (
    env_int("TRUSTED_PROXY_COUNT", 1) if env_bool("BEHIND_TLS_PROXY", default=False) else 0
)
AXES_CLIENT_IP_CALLABLE = "crisis.people.addresses.client_address"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["crisis.formats"]  # one date format per interface language
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Madrid")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it, even before collectstatic
WHITENOISE_USE_FINDERS = DEBUG
# Files browsers ask for at the site root (favicon.ico), so no page logs a 404 for them.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- E-mail ---------------------------------------------------------------------------
# Without EMAIL_HOST, mail is printed to the console (development); with it, sent by SMTP.
_email_backend = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
_smtp_options = {
    "host": os.environ.get("EMAIL_HOST", "localhost"),
    "port": env_int("EMAIL_PORT", 587),
    "username": os.environ.get("EMAIL_HOST_USER", ""),
    "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
    "use_tls": env_bool("EMAIL_USE_TLS", default=True),
}
if django.VERSION >= (6, 1):
    MAILERS = {
        "default": {
            "BACKEND": _email_backend,
            "OPTIONS": _smtp_options if _email_backend.endswith("smtp.EmailBackend") else {},
        }
    }
else:  # Django 5.2 LTS (Python 3.11) still reads the EMAIL_* settings.
    EMAIL_BACKEND = _email_backend
    EMAIL_HOST = _smtp_options["host"]
    EMAIL_PORT = _smtp_options["port"]
    EMAIL_HOST_USER = _smtp_options["username"]
    EMAIL_HOST_PASSWORD = _smtp_options["password"]
    EMAIL_USE_TLS = _smtp_options["use_tls"]
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Calma <calma@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security: strict unless DEBUG; each knob can be overridden from the environment ----
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# A refused form post in the product's layout (Django's own page has an inline style).
CSRF_FAILURE_VIEW = "crisis.views.errors.csrf_failure"
# Only our own static files run or style a page: no inline script, handler or style=""
# (templates keep them in static/js and static/css), so injected markup stays inert.
# Plain strings rather than django.utils.csp.CSP so that Django 5.2 reads the same policy.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],  # Pico draws its icons as data: SVGs
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "object-src": ["'none'"],
}
# Browser features Calma never uses, denied to every page (and anything injected into one).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
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

# Under `make run` supervisord prints every process's output to one terminal, so each line
# starts with the name of the process that wrote it (set in scripts/supervisord.conf).
_PROCESS_LABEL = (
    f"{os.environ['CALMA_PROCESS_NAME']} | " if os.environ.get("CALMA_PROCESS_NAME") else ""
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": _PROCESS_LABEL + "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": _PROCESS_LABEL + "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "server": {"class": "logging.StreamHandler", "formatter": "server"},
    },
    "loggers": {
        # Django's default config gives "django" its own console handler (when DEBUG) on top
        # of ours at the root: every warning was printed twice. One handler, the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # runserver's request lines keep Django's format, with the process name.
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
