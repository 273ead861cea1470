"""Models of the case-work app."""

from .audit import AuditEvent
from .capability import Capability

__all__ = ["AuditEvent", "Capability"]
