"""Reads for the People page: accounts with their roles and whether their sign-in is locked."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet, Sum

from crisis.roles import Role

PEOPLE_PER_PAGE = 25


@dataclass(frozen=True, slots=True)
class PersonRow:
    person: AbstractBaseUser
    roles: list[Role]
    locked_out: bool


def people_queryset() -> QuerySet:
    return get_user_model()._default_manager.prefetch_related("groups").order_by("username")


def locked_out_usernames(usernames: Iterable[str], *, now: datetime) -> set[str]:
    """Usernames locked out from at least one address (the failures axes still counts)."""
    recent = AccessAttempt.objects.filter(username__in=list(usernames))
    if settings.AXES_COOLOFF_TIME:
        recent = recent.filter(attempt_time__gte=now - settings.AXES_COOLOFF_TIME)
    per_address = (
        recent.values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
    )
    return {row["username"] for row in per_address}


def _roles(person: AbstractBaseUser) -> list[Role]:
    names = {group.name for group in person.groups.all()}  # prefetched
    return [role for role in Role if role.value in names]


def people_page(page_number: str | int | None, *, now: datetime) -> Page:
    """One page of people, each a PersonRow; two queries (people, groups) plus one for locks."""
    page = Paginator(people_queryset(), PEOPLE_PER_PAGE).get_page(page_number)
    people = list(page.object_list)
    locked = locked_out_usernames([person.get_username() for person in people], now=now)
    page.object_list = [
        PersonRow(person, _roles(person), person.get_username() in locked) for person in people
    ]
    return page


def person_row(person: AbstractBaseUser, *, now: datetime) -> PersonRow:
    locked = locked_out_usernames([person.get_username()], now=now)
    return PersonRow(person, _roles(person), person.get_username() in locked)
