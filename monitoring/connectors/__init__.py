"""One connector module per platform: pure `parse(payload)` plus `fetch(source, cursor)`.

`connector_for(platform)` returns the module; every module exposes the same functions
(see `base.py` for the contract).
"""

from importlib import import_module
from types import ModuleType

from monitoring.platforms import Platform

MODULES = {
    Platform.MASTODON: "mastodon",
    Platform.BLUESKY: "bluesky",
    Platform.REDDIT: "reddit",
    Platform.FEED: "feeds",
    Platform.YOUTUBE: "youtube",
    Platform.WEBHOOK: "webhook",
    Platform.CSV: "csv",
}


def connector_for(platform: str) -> ModuleType:
    return import_module(f"monitoring.connectors.{MODULES[Platform(platform)]}")
