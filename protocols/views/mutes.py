"""Topic mutes on the crisis suggestions page: mute a topic until a time, end a mute early."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crisis.roles import Perm
from protocols import services
from protocols.models import TopicMute

declare_crisis = permission_required(Perm.DECLARE_CRISIS, raise_exception=True)


class MuteTopicForm(forms.Form):
    """A topic silenced for a planned campaign: until when and why (both audited)."""

    topic = forms.CharField(
        label=gettext_lazy("Topic"),
        max_length=200,
        help_text=gettext_lazy("A keyword group or a hashtag (without #), as suggestions show it."),
        widget=forms.TextInput(attrs={"list": "mute-topics", "autocomplete": "off"}),
    )
    until = forms.DateTimeField(
        label=gettext_lazy("Muted until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    reason = forms.CharField(
        label=gettext_lazy("Why"),
        max_length=services.MAX_MUTE_REASON,
        help_text=gettext_lazy("For example the campaign or launch; shown with the mute."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Worded per request (the reader's language), with the service's limit.
        self.fields["until"].help_text = _("In your time zone; at most %(days)d days ahead.") % {
            "days": services.MAX_MUTE.days
        }

    def clean_topic(self) -> str:
        topic = self.cleaned_data["topic"].strip()
        # Hashtag topics are stored lower-case without "#" (protocols.topics).
        return topic[1:].lower() if topic.startswith("#") else topic


def mute_form_for(data=None) -> MuteTopicForm:
    return MuteTopicForm(data, auto_id="mute-%s")


@declare_crisis
@require_POST
def mute_topic(request: HttpRequest) -> HttpResponse:
    from protocols.views.suggestions import render_list

    form = mute_form_for(request.POST)
    if form.is_valid():
        try:
            mute = services.mute_topic(
                actor=request.user,
                topic=form.cleaned_data["topic"],
                until=form.cleaned_data["until"],
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
        except services.MuteInvalid as invalid:
            for field, message in invalid.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Topic “%(topic)s” muted.") % {"topic": mute.topic})
            return redirect("protocols:suggestions")
    return render_list(request, mute_form=form)


@declare_crisis
@require_http_methods(["GET", "POST"])
def end_mute(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: confirm; POST: end the mute now."""
    mute = get_object_or_404(TopicMute.objects.select_related("created_by"), pk=pk)
    if request.method == "POST":
        try:
            services.end_mute(actor=request.user, mute=mute, now=timezone.now())
        except services.MuteAlreadyEnded:
            messages.info(request, _("This mute had already ended."))
        else:
            messages.success(
                request,
                _("Topic “%(topic)s” is no longer muted: surges on it can suggest a crisis again.")
                % {"topic": mute.topic},
            )
        return redirect("protocols:suggestions")
    return render(request, "protocols/end_mute.html", {"mute": mute})
