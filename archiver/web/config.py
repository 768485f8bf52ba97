"""Django's settings, built in code from archiver's settings (there is no settings module to edit).

:func:`setup` configures Django once per process: the database is SQLite in the
working folder (``service.sqlite3``) unless ``[service] database`` names a
PostgreSQL server; the secret key is generated once into the working folder
(``service-secret-key``, mode 0600); Argon2 is the first password hasher; sessions
expire after ``[service] session_minutes`` without a request; cookies are HTTPS-only
when ``[service] https`` says the service runs behind an HTTPS reverse proxy.
"""

from __future__ import annotations

import os
import secrets
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from archiver.files import write_atomic
from archiver.settings import Settings

SECRET_FILE = "service-secret-key"
DATABASE_FILE = "service.sqlite3"
_configured: list[Settings] = []
_lock = threading.Lock()


def secret_key(folder: Path) -> str:
    """The service's secret key (signs sessions and CSRF tokens), made once and kept 0600."""
    path = folder / SECRET_FILE
    if not path.is_file():
        write_atomic(path, (secrets.token_urlsafe(50) + "\n").encode("ascii"))
        os.chmod(path, 0o600)
    return path.read_text(encoding="ascii").strip()


def database(settings: Settings) -> dict[str, Any]:
    """Django's ``DATABASES['default']``: PostgreSQL by ``[service] database``, else SQLite."""
    url = settings.service.database
    if url is None:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(settings.working_dir() / DATABASE_FILE),
            "OPTIONS": {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
    }


def django_settings(settings: Settings) -> dict[str, Any]:
    """Every Django setting the service uses."""
    service = settings.service
    folder = settings.working_dir()
    https = service.https
    return {
        "DEBUG": False,
        "SECRET_KEY": secret_key(folder),
        "ALLOWED_HOSTS": list(service.allowed_hosts),
        "INSTALLED_APPS": [
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "axes",
            "archiver.web.apps.WebConfig",
        ],
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "axes.middleware.AxesMiddleware",
        ],
        "AUTHENTICATION_BACKENDS": [
            "axes.backends.AxesStandaloneBackend",
            "django.contrib.auth.backends.ModelBackend",
        ],
        "PASSWORD_HASHERS": [
            "django.contrib.auth.hashers.Argon2PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        ],
        "AUTH_PASSWORD_VALIDATORS": [
            {
                "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
                "OPTIONS": {"min_length": 10},
            },
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
            {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
        ],
        "ROOT_URLCONF": "archiver.web.urls",
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                        "archiver.web.context.navigation",
                    ]
                },
            }
        ],
        "DATABASES": {"default": database(settings)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "MESSAGE_STORAGE": "django.contrib.messages.storage.session.SessionStorage",
        "LANGUAGE_CODE": "ru",
        "USE_I18N": True,
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "LOGIN_URL": "login",
        "LOGIN_REDIRECT_URL": "home",
        "LOGOUT_REDIRECT_URL": "login",
        "SESSION_COOKIE_AGE": service.session_minutes * 60,
        "SESSION_SAVE_EVERY_REQUEST": True,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_SECURE": https,
        "CSRF_COOKIE_SECURE": https,
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SAMESITE": "Strict",
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https") if https else None,
        "SECURE_HSTS_SECONDS": 31536000 if https else 0,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "SAMEORIGIN",
        "CSRF_FAILURE_VIEW": "archiver.web.views.errors.csrf_failure",
        "DATA_UPLOAD_MAX_MEMORY_SIZE": 50 * 1024 * 1024,
        "AXES_FAILURE_LIMIT": service.lockout_failures,
        "AXES_COOLOFF_TIME": timedelta(minutes=service.lockout_minutes),
        "AXES_LOCKOUT_PARAMETERS": ["username"],
        "AXES_RESET_ON_SUCCESS": True,
        "AXES_LOCKOUT_TEMPLATE": "web/locked.html",
        "AXES_VERBOSE": False,
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"console": {"class": "logging.StreamHandler"}},
            "loggers": {
                "django": {"handlers": ["console"], "level": "WARNING"},
                "axes": {"handlers": ["console"], "level": "WARNING"},
                "archiver.web": {"handlers": ["console"], "level": "INFO"},
            },
        },
        "ARCHIVER_SETTINGS": settings,
    }


def setup(settings: Settings) -> None:
    """Configure Django for these settings (once per process) and load the application."""
    with _lock:
        if _configured:
            if _configured[0] is not settings:
                raise RuntimeError("the web service is configured for other settings already")
            return
        import django
        from django.conf import settings as django_conf

        django_conf.configure(**django_settings(settings))
        django.setup()
        _configured.append(settings)


def migrate() -> None:
    """Create or update the service's database tables (and the roles, after migrating)."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
