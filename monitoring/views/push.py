"""Mentions that arrive without polling: signed webhook pushes and CSV uploads."""

from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crisis.roles import Perm
from monitoring import services
from monitoring.connectors import webhook
from monitoring.connectors.base import MalformedPayload
from monitoring.credentials import resolve_credentials
from monitoring.forms import CsvImportForm
from monitoring.models import Source
from monitoring.platforms import Platform


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return 0  # a nonsense header: the bounded read below still applies


@csrf_exempt  # authenticated by the HMAC signature instead of a session
@login_not_required
@require_POST
def receive_webhook(request: HttpRequest, source_id: int) -> HttpResponse:
    source = Source.objects.filter(pk=source_id, platform=Platform.WEBHOOK, enabled=True).first()
    if source is None:
        return _json_error("unknown or disabled webhook source", 404)
    declared_length = _declared_length(request)
    if declared_length > webhook.MAX_BODY_BYTES:
        return _json_error(f"body larger than {webhook.MAX_BODY_BYTES} bytes", 413)
    body = request.read(webhook.MAX_BODY_BYTES + 1)
    if len(body) > webhook.MAX_BODY_BYTES:
        return _json_error(f"body larger than {webhook.MAX_BODY_BYTES} bytes", 413)
    secret = resolve_credentials(source.credentials_ref).get("webhook_secret", "")
    if not secret:
        return _json_error("this webhook has no signing secret configured", 503)
    if not webhook.verify_signature(secret, body, request.headers.get("X-Calma-Signature")):
        return _json_error("bad or missing X-Calma-Signature", 401)
    try:
        payload = webhook.decode_body(body)
        if not isinstance(payload, dict | list):
            return _json_error("body must be a JSON object", 400)
        items = webhook.split(payload)
    except webhook.TooManyItems as error:
        return _json_error(str(error), 413)
    except MalformedPayload as error:
        return _json_error(str(error), 400)
    accepted = services.accept_pushed_items(source=source, items=items, now=timezone.now())
    return JsonResponse(
        {
            "stored": accepted.stored,
            "new": accepted.new,
            "quarantined": accepted.quarantined,
            "already_quarantined": accepted.already_quarantined,
            "dropped": accepted.dropped,
        },
        status=202,
    )


@permission_required(Perm.MANAGE_SOURCES, raise_exception=True)
def import_csv(request: HttpRequest) -> HttpResponse:
    form = CsvImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = services.import_csv(
            actor=request.user,
            text=form.cleaned_data["file"],
            source=form.cleaned_data["source"],
            now=timezone.now(),
        )
        form = CsvImportForm()
    return render(request, "monitoring/import_csv.html", {"form": form, "result": result})
