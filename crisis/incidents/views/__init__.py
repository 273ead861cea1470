"""Views of incidents: one module per screen (incident.py: the incident page)."""
