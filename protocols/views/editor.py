"""The protocol editor for supervisors: versions, drafts, sections, activation, diff."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisis.roles import Perm
from protocols import services
from protocols.diff import diff_configs
from protocols.forms import (
    FORM_SECTIONS,
    SECTION_ORDER,
    SECTIONS,
    ActivateForm,
    BacktestForm,
    CompareForm,
    DetailsForm,
    NumbersForm,
    severity_labels,
)
from protocols.models import ProtocolStatus, ProtocolVersion
from protocols.views import policies

edit_protocol = permission_required(Perm.EDIT_PROTOCOL, raise_exception=True)


def _can_read(user) -> bool:
    return user.has_perm(Perm.EDIT_PROTOCOL) or user.has_perm(Perm.TRIAGE)


@login_required
def version_list(request: HttpRequest) -> HttpResponse:
    if not _can_read(request.user):
        raise PermissionDenied
    versions = ProtocolVersion.objects.select_related("activated_by", "created_by")
    return render(
        request,
        "protocols/versions.html",
        {"versions": versions, "compare_form": CompareForm(), "statuses": ProtocolStatus},
    )


@login_required
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not _can_read(request.user):
        raise PermissionDenied
    version = get_object_or_404(ProtocolVersion, pk=pk)
    sections = [(name, SECTIONS[name][0], version.config.get(name)) for name in SECTION_ORDER]
    return render(
        request,
        "protocols/version_detail.html",
        {
            "version": version,
            "sections": sections,
            "details_form": DetailsForm(instance=version),
            "backtest_form": BacktestForm(),
            "backtests": version.backtests.all()[:5],
            "can_edit": request.user.has_perm(Perm.EDIT_PROTOCOL),
        },
    )


@edit_protocol
@require_POST
def new_draft(request: HttpRequest) -> HttpResponse:
    based_on = None
    if request.POST.get("based_on"):
        based_on = get_object_or_404(ProtocolVersion, pk=request.POST["based_on"])
    draft = services.create_draft(actor=request.user, based_on=based_on)
    messages.success(request, _("Draft v%(number)s created.") % {"number": draft.number})
    return redirect("protocols:detail", pk=draft.pk)


@edit_protocol
@require_POST
def save_details(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(ProtocolVersion, pk=pk, status=ProtocolStatus.DRAFT)
    form = DetailsForm(request.POST, instance=version)
    if form.is_valid():
        services.update_draft(actor=request.user, version=version, **form.cleaned_data)
        messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Give the draft a name."))
    return redirect("protocols:detail", pk=pk)


@edit_protocol
def edit_section(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    version = get_object_or_404(ProtocolVersion, pk=pk, status=ProtocolStatus.DRAFT)
    if section not in SECTIONS:
        raise Http404
    # Policies and replies have their own form; their JSON ("Advanced") view is `?view=json`,
    # and a post of the JSON field (`value`) is a JSON edit wherever it comes from.
    json_view = request.GET.get("view") == "json" or "value" in request.POST
    if section in FORM_SECTIONS and not json_view:
        return policies.edit_form_section(request, version, section)
    title, help_text, form_class = SECTIONS[section]
    extra = {"section_value": version.config.get(section, {})}
    if form_class is NumbersForm and section == "severity_thresholds":
        extra["labels"] = severity_labels()
    form = form_class(request.POST or None, **extra)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_draft(
                actor=request.user, version=version, section=section, value=form.to_section()
            )
        except services.ProtocolInvalid as invalid:
            _attach_errors(form, section, invalid.errors)
        else:
            messages.success(request, _("%(section)s saved.") % {"section": title})
            return redirect("protocols:detail", pk=pk)
    return render(
        request,
        "protocols/edit_section.html",
        {
            "version": version,
            "form": form,
            "title": title,
            "help_text": help_text,
            "section": section,
            "has_form_view": section in FORM_SECTIONS,
        },
    )


def _attach_errors(form, section: str, errors) -> None:
    """Put each validation error on the field it names, else at the top of the form."""
    for error in errors:
        if hasattr(form, "attach_error"):  # a formset knows which form a path points to
            form.attach_error(error.path, error.message)
            continue
        field = error.path.removeprefix(f"{section}.").split(".")[0].split("[")[0]
        if error.path.startswith(section) and field in form.fields and field != "value":
            form.add_error(field, error.message)
        else:
            form.add_error(None, f"{error.path}: {error.message}")


@edit_protocol
def activate(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(ProtocolVersion, pk=pk, status=ProtocolStatus.DRAFT)
    form = ActivateForm(request.POST or None)
    active = services.active_version()
    if request.method == "POST" and form.is_valid():
        try:
            services.activate(
                actor=request.user, version=version, rescore_days=form.cleaned_data["rescore_days"]
            )
        except services.ProtocolInvalid as invalid:
            for error in invalid.errors:
                messages.error(request, str(error))
            return redirect("protocols:detail", pk=pk)
        messages.success(request, _("v%(number)s is now active.") % {"number": version.number})
        return redirect("protocols:detail", pk=pk)
    return render(
        request,
        "protocols/activate.html",
        {
            "version": version,
            "active": active,
            "form": form,
            "changes": diff_configs(active.config, version.config),
        },
    )


@edit_protocol
def delete_draft(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(ProtocolVersion, pk=pk, status=ProtocolStatus.DRAFT)
    if request.method == "POST":
        services.delete_draft(actor=request.user, version=version)
        messages.success(request, _("Draft deleted."))
        return redirect("protocols:list")
    return render(request, "protocols/delete_draft.html", {"version": version})


@login_required
def compare(request: HttpRequest) -> HttpResponse:
    if not _can_read(request.user):
        raise PermissionDenied
    form = CompareForm(request.GET or None)
    changes = None
    if form.is_valid():
        changes = diff_configs(form.cleaned_data["a"].config, form.cleaned_data["b"].config)
    return render(request, "protocols/diff.html", {"form": form, "changes": changes})
