"""The departments a crisis cabinet starts with (practice 12); admins add others."""

from django.db import migrations

DEFAULT_DEPARTMENTS = (
    ("communications", "Communications", False, 10),
    ("customer_service", "Customer service", False, 20),
    ("legal", "Legal", True, 30),
    ("strategic_direction", "Strategic direction", False, 40),
)


def create_default_departments(apps, schema_editor) -> None:
    Department = apps.get_model("rooms", "Department")
    for key, name, is_legal, ordering in DEFAULT_DEPARTMENTS:
        Department.objects.get_or_create(
            key=key, defaults={"name": name, "is_legal": is_legal, "ordering": ordering}
        )


class Migration(migrations.Migration):
    dependencies = [("rooms", "0001_initial")]

    operations = [migrations.RunPython(create_default_departments, migrations.RunPython.noop)]
