"""Secrets for sources live in the server environment; the database holds only a reference."""

import os

PREFIX = "CALMA_SECRET_"


def resolve_credentials(reference: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """`MASTODON_MAIN` → {"access_token": …} from CALMA_SECRET_MASTODON_MAIN_ACCESS_TOKEN etc."""
    if not reference:
        return {}
    environ = os.environ if environ is None else environ
    prefix = f"{PREFIX}{reference}_"
    return {
        name[len(prefix) :].lower(): value
        for name, value in environ.items()
        if name.startswith(prefix) and value
    }
