"""Date and time formats, one per interface language (settings.FORMAT_MODULE_PATH)."""
