"""The signer's passphrase or PIN in the web service: typed into the page, or the service's environment.

A token on the server (PKCS#11) or a key file: the director types the PIN or
passphrase into the password field of the page (sent once over HTTPS, never
stored, logged or shown); when the field is left empty, the environment variable
``[signer]`` names is used (a service set up for unattended signing).
"""

from __future__ import annotations

import os

from archiver.errors import UsageError
from archiver.settings import SignatureSettings
from archiver.signing.sign import needs_secret, secret_env, secret_prompt


def web_secret(signature: SignatureSettings, typed: str) -> str:
    """The passphrase or PIN: what was typed, else the environment's; :class:`UsageError` without."""
    if not needs_secret(signature):
        return ""
    if typed:
        return typed
    value = os.environ.get(secret_env(signature))
    if value is None:
        raise UsageError(f"введите {secret_prompt(signature).lower()}")
    return value
