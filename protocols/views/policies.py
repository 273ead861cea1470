"""The protocol editor's forms for the response policies and the replies section, and the live
preview of a reply template filled for a sample incident."""

import string
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from crisis.roles import Perm
from crisis.views.rendering import render_page_or_partial
from monitoring.platforms import Platform
from protocols import services
from protocols.defaults import TEMPLATE_VARIABLES
from protocols.forms import (
    FORM_SECTIONS,
    SECTIONS,
    PoliciesForm,
    PreviewChannelForm,
    RepliesForm,
    TemplateRowsMixin,
)
from protocols.forms import textarea_lines as lines
from protocols.forms import textarea_text as text_of
from protocols.models import ProtocolStatus, ProtocolVersion
from protocols.replies import CHARACTER_LIMITS, boilerplate_found, fill_template
from protocols.schema import section as section_of
from protocols.schema import upgrade

edit_protocol = permission_required(Perm.EDIT_PROTOCOL, raise_exception=True)

# The sample incident every preview is filled for (the agent is the person editing).
SAMPLE_AUTHOR = "María"
SAMPLE_CASE = "#123"


@dataclass(frozen=True, slots=True)
class Preview:
    label: str
    source: str
    text: str
    channel: str
    length: int
    limit: int | None
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    boilerplate: list[str] = field(default_factory=list)
    unreadable: bool = False

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.length > self.limit


def _form(
    request: HttpRequest, version: ProtocolVersion, section: str, data=None, *, focus: str = ""
) -> TemplateRowsMixin:
    config = upgrade(version.config)
    kwargs = {
        "section_value": config.get(section),
        "preview_url": reverse("protocols:preview_template", args=[version.pk, section]),
        "focus": focus,
    }
    if section == "replies":
        return RepliesForm(data, keyword_groups=config.get("keyword_groups"), **kwargs)
    return PoliciesForm(data, **kwargs)


def sample_values(request: HttpRequest, *, brand: str, channel: str) -> dict[str, str]:
    agent = request.user.first_name or request.user.get_username()
    return {
        "author": SAMPLE_AUTHOR,
        "brand": brand,
        "agent": agent,
        "case": SAMPLE_CASE,
        "channel": str(Platform(channel).label),
    }


def _preview(request: HttpRequest, version: ProtocolVersion, section: str, form) -> Preview | None:
    """The template box the request names, filled for the sample incident; None when it
    names no box of this form."""
    data = form.data
    source = data.get("preview") or data.get("preview_source") or ""
    if source not in form.template_labels:
        return None
    template = text_of(data.get(source))
    config = upgrade(version.config)
    brand = str(section_of(config, "replies").get("brand") or "")
    if section == "replies":
        # The replies page previews what is being typed: its brand and boilerplate phrases.
        brand = (data.get("brand") or "").strip()
        phrases = {"es": lines(data.get("boilerplate_es")), "en": lines(data.get("boilerplate_en"))}
        config = {**config, "replies": {**section_of(config, "replies"), "boilerplate": phrases}}
    channel = PreviewChannelForm(data).channel()
    filled = fill_template(template, sample_values(request, brand=brand, channel=channel))
    try:
        list(string.Formatter().parse(template))
        unreadable = False
    except ValueError:
        unreadable = True
    return Preview(
        label=form.template_labels[source],
        source=source,
        text=filled.text,
        channel=str(Platform(channel).label),
        length=len(filled.text),
        limit=CHARACTER_LIMITS.get(channel),
        missing=[name for name in filled.missing if name in TEMPLATE_VARIABLES],
        unknown=[name for name in filled.missing if name not in TEMPLATE_VARIABLES],
        boilerplate=boilerplate_found(config, filled.text),
        unreadable=unreadable,
    )


def _preview_context(request: HttpRequest, preview: Preview | None) -> dict:
    return {
        "preview": preview,
        "sample_author": SAMPLE_AUTHOR,
        "sample_case": SAMPLE_CASE,
        "sample_agent": request.user.first_name or request.user.get_username(),
        "variables": ", ".join("{" + name + "}" for name in TEMPLATE_VARIABLES),
    }


def edit_form_section(request: HttpRequest, version: ProtocolVersion, section: str):
    """The form view of `policies` or `replies` (the JSON view stays as "Advanced")."""
    title = SECTIONS[section][0]
    preview = None
    if request.method != "POST":
        form = _form(request, version, section)
    elif "add_row" in request.POST:
        form = _add_row(request, version, section)
    elif "preview" in request.POST:
        form = _form(request, version, section, request.POST)
        preview = _preview(request, version, section, form)
    else:
        form = _form(request, version, section, request.POST)
        if form.is_valid():
            try:
                services.update_draft(
                    actor=request.user, version=version, section=section, value=form.to_section()
                )
            except services.ProtocolInvalid as invalid:
                for error in invalid.errors:
                    form.attach_error(error.path, error.message)
            else:
                messages.success(request, _("%(section)s saved.") % {"section": title})
                return redirect("protocols:detail", pk=version.pk)
        messages.error(request, _("Nothing was saved: see the messages next to the fields."))
    channel_form = PreviewChannelForm(
        request.POST if request.method == "POST" else None,
        preview_url=reverse("protocols:preview_template", args=[version.pk, section]),
    )
    return render(
        request,
        "protocols/edit_form_section.html",
        {
            "version": version,
            "section": section,
            "form": form,
            "channel_form": channel_form,
            "title": title,
            "preview_url": reverse("protocols:preview_template", args=[version.pk, section]),
            **_preview_context(request, preview),
        },
    )


def _add_row(request: HttpRequest, version: ProtocolVersion, section: str):
    """One more blank template box where "Add a template" was pressed, focused; nothing saved."""
    form = _form(request, version, section, request.POST)
    prefix = request.POST["add_row"]
    if prefix not in form.template_rows:
        return form
    data = request.POST.copy()
    rows = len(form.template_rows[prefix])
    data[f"{prefix}-rows"] = str(rows + 1)
    return _form(request, version, section, data, focus=f"{prefix}-{rows}")


@edit_protocol
def preview_template(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    """htmx: the template being edited, filled for the sample incident; a full page without
    htmx (the editor's own Preview buttons post to the editor instead)."""
    version = get_object_or_404(ProtocolVersion, pk=pk, status=ProtocolStatus.DRAFT)
    if section not in FORM_SECTIONS:
        raise Http404
    if request.method != "POST":
        return redirect("protocols:edit_section", pk=pk, section=section)
    form = _form(request, version, section, request.POST)
    preview = _preview(request, version, section, form)
    return render_page_or_partial(
        request,
        "protocols/preview.html",
        "protocols/partials/template_preview.html",
        {
            "version": version,
            "section": section,
            "title": SECTIONS[section][0],
            **_preview_context(request, preview),
        },
    )
