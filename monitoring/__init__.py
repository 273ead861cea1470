"""Monitoring: sources, connectors, authors, mentions, ingest and the platform simulator."""
