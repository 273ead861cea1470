"""The People page for admins, and the login page shown to a locked-out sign-in."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisis.people import selectors, services
from crisis.people.forms import NewPersonForm, RolesForm
from crisis.roles import Perm

manage_people = permission_required(Perm.MANAGE_PEOPLE, raise_exception=True)


def _link_site(request: HttpRequest) -> services.LinkSite:
    return services.LinkSite(domain=request.get_host(), use_https=request.is_secure())


def _person(pk: int):
    return get_object_or_404(get_user_model(), pk=pk)


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


@manage_people
def people_list(request: HttpRequest) -> HttpResponse:
    page = selectors.people_page(request.GET.get("page"), now=timezone.now())
    return render(request, "people/list.html", {"page": page})


@manage_people
def person_create(request: HttpRequest) -> HttpResponse:
    form = NewPersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.create_person(
                actor=request.user, site=_link_site(request), **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error("username", error)
        else:
            messages.success(
                request,
                _("%(username)s was created and invited by e-mail to choose a password.")
                % {"username": person.get_username()},
            )
            return redirect("people:detail", pk=person.pk)
    return render(request, "people/create.html", {"form": form})


@manage_people
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(pk)
    row = selectors.person_row(person, now=timezone.now())
    form = RolesForm(
        request.POST or None,
        initial={
            "roles": [role.value for role in row.roles],
            "legal_reviewer": services.is_legal_reviewer(person),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_roles(
                actor=request.user,
                person=person,
                roles=form.cleaned_data["roles"],
                legal_reviewer=form.cleaned_data["legal_reviewer"],
            )
        except ValidationError as error:
            messages.error(request, _refusal(error))
        else:
            messages.success(request, _("Roles saved."))
        return redirect("people:detail", pk=person.pk)
    return render(request, "people/detail.html", {"row": row, "person": person, "form": form})


def _set_active(request: HttpRequest, pk: int, *, active: bool) -> HttpResponse:
    """GET asks for confirmation; POST does it."""
    person = _person(pk)
    if request.method == "POST":
        try:
            services.set_person_active(actor=request.user, person=person, active=active)
        except ValidationError as error:
            messages.error(request, _refusal(error))
        else:
            message = (
                _("%(username)s can sign in again.")
                if active
                else _("%(username)s can no longer sign in.")
            )
            messages.success(request, message % {"username": person.get_username()})
        return redirect("people:detail", pk=person.pk)
    return render(
        request,
        "people/confirm_active.html",
        {"person": person, "active": active, "is_self": person.pk == request.user.pk},
    )


@manage_people
def person_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=False)


@manage_people
def person_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=True)


@manage_people
@require_POST
def person_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(pk)
    services.unlock_person(actor=request.user, person=person)
    messages.success(
        request,
        _("%(username)s can sign in again from any address.") % {"username": person.get_username()},
    )
    return redirect("people:detail", pk=person.pk)


@manage_people
@require_POST
def person_password_reset(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(pk)
    try:
        services.send_password_reset(actor=request.user, person=person, site=_link_site(request))
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(
            request,
            _("A link to choose a new password was sent to %(email)s.") % {"email": person.email},
        )
    return redirect("people:detail", pk=person.pk)


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """axes' lockout response: the login page again, saying why and for how long."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    minutes = (
        int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else 0
    )
    message = _(
        "Too many failed sign-ins for this username from your address. Sign-in is blocked "
        "for %(minutes)s minutes; an admin can unlock it sooner."
    ) % {"minutes": minutes}
    form = AuthenticationForm(request, initial={"username": username})
    return render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": message, "next": request.POST.get("next", "")},
        status=429,
    )
