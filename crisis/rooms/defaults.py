"""The departments a crisis cabinet starts with (practice 12); admins add others. Ensured after
every migrate, so a database emptied by a flush (tests, a reset) gets them back."""

DEFAULT_DEPARTMENTS = (
    ("communications", "Communications", False, 10),
    ("customer_service", "Customer service", False, 20),
    ("legal", "Legal", True, 30),
    ("strategic_direction", "Strategic direction", False, 40),
)


def ensure_default_departments(**_signal_kwargs) -> None:
    """Create the default departments that are missing (an admin's renames are kept)."""
    from crisis.rooms.models import Department

    for key, name, is_legal, ordering in DEFAULT_DEPARTMENTS:
        Department.objects.get_or_create(
            key=key, defaults={"name": name, "is_legal": is_legal, "ordering": ordering}
        )
