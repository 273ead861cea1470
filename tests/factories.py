"""factory-boy factories shared by the whole suite."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from crisis.roles import Role, ensure_role_groups


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def role(user, create, extracted: Role | None, **kwargs):
        if not create or extracted is None:
            return
        ensure_role_groups()
        user.groups.add(Group.objects.get(name=extracted.value))
        if extracted == Role.ADMIN:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
