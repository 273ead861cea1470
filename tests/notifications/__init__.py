"""Tests of crisis.notifications."""
