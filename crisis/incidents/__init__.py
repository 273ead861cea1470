"""Incidents: a serious mention becomes a case with one owner, a state and an SLA clock."""
