"""Outgoing webhooks: signed, retried until a local receiver accepts, at least once with a
stable event id, refused towards private addresses, and the admins' pages per role."""

import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crisis.models import AuditEvent
from crisis.notifications import deliveries, services, webhooks
from crisis.notifications.models import (
    DeliveryState,
    NotificationChannel,
    NotificationKind,
    NotificationPreference,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSettings,
)
from crisis.roles import Role
from monitoring.connectors.webhook import verify_signature
from tests.factories import UserFactory

NOW = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
SECRET = "receiver-shared-secret"
SECRET_REF = "TEST_HOOK"
FAST = {
    "WEBHOOK_TIMEOUT_SECONDS": 2,
    "WEBHOOK_BACKOFF_SECONDS": 0.1,
    "WEBHOOK_BACKOFF_MAX_SECONDS": 0.4,
}


# --- A local receiver --------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answer: object

    @property
    def event_id(self) -> str:
        return self.headers["X-Calma-Event-Id"]


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that stops reading a huge answer is expected here


class Receiver:
    """An HTTP server on 127.0.0.1 answering POSTs from a script: a status code, a
    (status, headers, body) tuple, "drop" (read and keep the event, then close without an
    answer: the acknowledgement is lost) or "hang" (answer nothing until released)."""

    def __init__(self, *script, then=200):
        self.script = list(script)
        self.then = then
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.release = threading.Event()

    def __enter__(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    answer = receiver.script.pop(0) if receiver.script else receiver.then
                    receiver.received.append(Received(dict(self.headers), body, answer))
                if answer == "drop":
                    self.close_connection = True
                    return
                if answer == "hang":
                    receiver.release.wait(10)
                    self.close_connection = True
                    return
                if answer == "drip":
                    # A byte at a time, each well within the timeout, never ending in time.
                    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                        if receiver.release.wait(0.05):
                            break
                        try:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                        except OSError:
                            break
                    self.close_connection = True
                    return
                status, headers, payload = (
                    answer if isinstance(answer, tuple) else (answer, {}, b"ok")
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/calma"

    def event_ids(self) -> list[str]:
        return [request.event_id for request in self.received]


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


# --- Fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def fast_webhooks(settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, **FAST}


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv(f"CALMA_SECRET_{SECRET_REF}_WEBHOOK_SECRET", SECRET)
    return SECRET


def allow_private(allowed: bool = True) -> None:
    row = WebhookSettings.load()
    row.allow_private_addresses = allowed
    row.save()


def endpoint_for(url: str, *, kinds=("assigned",), secret_ref=SECRET_REF, enabled=True):
    return WebhookEndpoint.objects.create(
        name="Ops channel", url=url, secret_ref=secret_ref, kinds=list(kinds), enabled=enabled
    )


def wants_webhooks(user, kind="assigned"):
    NotificationPreference.objects.create(
        user=user, kind=kind, channel=NotificationChannel.WEBHOOK, enabled=True
    )
    return user


def notify_assigned(users, *, now=NOW, dedupe_key=""):
    return services.notify(
        users=users,
        kind=NotificationKind.ASSIGNED,
        title=("Incident #%(id)s assigned to you", {"id": 12}),
        url="/incidents/12/",
        dedupe_key=dedupe_key,
        now=now,
    )


# --- Acceptance 4: signed, retried on 500 until accepted, each event once after dedupe --------


@pytest.mark.celery_worker
def test_events_are_signed_and_retried_on_500_until_the_receiver_accepts_them(
    celery_worker, fast_webhooks, secret
):
    allow_private()
    people = [
        wants_webhooks(UserFactory(username=name, role=Role.COMMUNITY_MANAGER))
        for name in ("ana", "ben")
    ]
    bystander = UserFactory(username="cleo", role=Role.COMMUNITY_MANAGER)  # webhook off
    # Two 500s, then an event accepted but its answer lost, then 200 for everything.
    with Receiver(500, 500, "drop") as receiver:
        endpoint_for(receiver.url)
        notify_assigned([*people, bystander], now=timezone.now(), dedupe_key="incident:12:assigned")
        wait_for(lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).count() == 2)
        received = list(receiver.received)

    sent = list(WebhookDelivery.objects.order_by("id"))
    assert len(sent) == 2  # the bystander left the webhook channel off
    assert sum(delivery.attempts for delivery in sent) == len(received) == 5
    for request in received:
        assert verify_signature(secret, request.body, request.headers["X-Calma-Signature"])
    # At least once: every event arrived; after dropping duplicates by id, exactly once.
    ids = [request.event_id for request in received]
    assert set(ids) == {str(delivery.event_id) for delivery in sent}
    assert len(set(ids)) == 2
    # The same event carries the same bytes on every attempt.
    for delivery in sent:
        bodies = {r.body for r in received if r.event_id == str(delivery.event_id)}
        assert bodies == {deliveries.body_of(delivery)}
    assert {delivery.payload["event"]["recipient"] for delivery in sent} == {"ana", "ben"}


def test_lost_acknowledgement_sends_the_same_event_again(db, fast_webhooks, secret):
    """The receiver took the event and the connection dropped before its answer: the retry
    carries the same event id, so the receiver keeps one."""
    allow_private()
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    with Receiver("drop", 200) as receiver:
        endpoint_for(receiver.url)
        notify_assigned([user])
        delivery = WebhookDelivery.objects.get()
        first = deliveries.send_delivery(delivery_id=delivery.pk, now=NOW)
        assert first.state == DeliveryState.PENDING
        assert first.retry_in is not None
        second = deliveries.send_delivery(delivery_id=delivery.pk, now=NOW + timedelta(seconds=1))
        assert second.state == DeliveryState.DELIVERED
    assert receiver.event_ids() == [str(delivery.event_id)] * 2
    assert len(set(receiver.event_ids())) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)


def test_payload_is_slack_compatible_with_the_event(db, fast_webhooks, secret, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "BASE_URL": "https://calma.example.org"}
    allow_private()
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    with Receiver(200) as receiver:
        endpoint_for(receiver.url)
        services.notify(
            users=[user],
            kind="assigned",
            title="Incident #12 <b>&</b> more",
            url="/incidents/12/",
            now=NOW,
        )
        delivery = WebhookDelivery.objects.get()
        deliveries.send_delivery(delivery_id=delivery.pk, now=NOW)
    [request] = receiver.received
    payload = json.loads(request.body)
    assert payload["text"] == (
        "<https://calma.example.org/incidents/12/|Incident #12 &lt;b&gt;&amp;&lt;/b&gt; more>"
    )
    assert payload["event"] == {
        "id": str(delivery.event_id),
        "kind": "assigned",
        "title": "Incident #12 <b>&</b> more",
        "url": "https://calma.example.org/incidents/12/",
        "created_at": NOW.isoformat(),
        "recipient": "ana",
    }
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Calma-Event"] == "assigned"


def test_endpoint_without_a_secret_reference_sends_unsigned(db, fast_webhooks):
    allow_private()
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    with Receiver(200) as receiver:
        endpoint_for(receiver.url, secret_ref="")
        notify_assigned([user])
        deliveries.send_delivery(delivery_id=WebhookDelivery.objects.get().pk, now=NOW)
    assert "X-Calma-Signature" not in receiver.received[0].headers


def test_missing_secret_fails_naming_the_environment_variable(db, fast_webhooks, monkeypatch):
    monkeypatch.delenv(f"CALMA_SECRET_{SECRET_REF}_WEBHOOK_SECRET", raising=False)
    allow_private()
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    with Receiver(200) as receiver:
        endpoint_for(receiver.url)
        notify_assigned([user])
        delivery = WebhookDelivery.objects.get()
        deliveries.send_delivery(delivery_id=delivery.pk, now=NOW)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert "CALMA_SECRET_TEST_HOOK_WEBHOOK_SECRET" in delivery.last_error
    assert receiver.received == []


# --- What is retried, what fails for good ------------------------------------------------------


def deliver_once(receiver, *, now=NOW):
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    endpoint_for(receiver.url)
    notify_assigned([user])
    delivery = WebhookDelivery.objects.get()
    outcome = deliveries.send_delivery(delivery_id=delivery.pk, now=now)
    delivery.refresh_from_db()
    return outcome, delivery


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_client_error_fails_for_good_with_the_reason(db, fast_webhooks, secret, status):
    allow_private()
    with Receiver((status, {}, b"no such hook"), then=200) as receiver:
        outcome, delivery = deliver_once(receiver)
    assert outcome.retry_in is None
    assert delivery.state == DeliveryState.FAILED
    assert delivery.last_status_code == status
    assert delivery.last_error == f"HTTP {status}: no such hook"
    assert delivery.failed_at == NOW
    # No retry comes: the sweeper leaves it alone.
    assert deliveries.sweep_deliveries(now=NOW + timedelta(days=2)).handed_over == 0


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_server_errors_and_429_are_retried(db, fast_webhooks, secret, status):
    allow_private()
    with Receiver(status) as receiver:
        outcome, delivery = deliver_once(receiver)
    assert outcome.state == DeliveryState.PENDING
    assert 0 < outcome.retry_in <= FAST["WEBHOOK_BACKOFF_SECONDS"]
    assert (delivery.state, delivery.last_status_code, delivery.attempts) == ("pending", status, 1)
    assert delivery.lease_expires_at is None


def test_retry_after_of_a_429_is_honoured_up_to_the_longest_back_off(db, fast_webhooks, secret):
    allow_private()
    with Receiver((429, {"Retry-After": "0.3"}, b"slow down")) as receiver:
        outcome, _delivery = deliver_once(receiver)
    assert outcome.retry_in == pytest.approx(0.3)


def test_back_off_grows_exponentially_with_jitter_and_a_ceiling(db, settings):
    settings.NOTIFICATIONS = {
        **settings.NOTIFICATIONS,
        "WEBHOOK_BACKOFF_SECONDS": 10,
        "WEBHOOK_BACKOFF_MAX_SECONDS": 3600,
    }
    for attempts, longest in [(1, 10), (2, 20), (3, 40), (8, 1280), (12, 3600)]:
        wait, bound = deliveries.backoff_bounds(attempts, None)
        assert bound == longest
        assert longest / 2 <= wait <= longest


def test_redirect_is_not_followed(db, fast_webhooks, secret):
    allow_private()
    with Receiver(200) as elsewhere, Receiver((302, {"Location": elsewhere.url}, b"")) as receiver:
        outcome, delivery = deliver_once(receiver)
    assert outcome.state == DeliveryState.FAILED
    assert "redirects are not followed" in delivery.last_error
    assert elsewhere.received == []


def test_a_receiver_that_does_not_answer_times_out_and_is_retried(db, settings, secret):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, **FAST, "WEBHOOK_TIMEOUT_SECONDS": 0.3}
    allow_private()
    with Receiver("hang") as receiver:
        outcome, delivery = deliver_once(receiver)
    assert outcome.state == DeliveryState.PENDING
    assert "0.3" in delivery.last_error


def test_an_answer_dripped_byte_by_byte_is_cut_off_at_the_deadline(db, settings, secret):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, **FAST, "WEBHOOK_TIMEOUT_SECONDS": 0.2}
    allow_private()
    started = time.monotonic()
    with Receiver("drip") as receiver:
        outcome, delivery = deliver_once(receiver)
        elapsed = time.monotonic() - started
    assert outcome.state == DeliveryState.PENDING
    assert "No complete answer within" in delivery.last_error
    assert elapsed < 5  # the drip alone would take ten seconds


def test_a_huge_answer_is_not_read_beyond_a_few_kilobytes(db, fast_webhooks, secret):
    allow_private()
    with Receiver((503, {}, b"x" * 2_000_000)) as receiver:
        outcome, delivery = deliver_once(receiver)
    assert outcome.state == DeliveryState.PENDING
    assert len(delivery.last_error) < 300


def test_nobody_listening_is_retried(db, fast_webhooks, secret):
    allow_private()
    with Receiver() as receiver:
        url = receiver.url
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    endpoint_for(url)
    notify_assigned([user])
    delivery = WebhookDelivery.objects.get()
    outcome = deliveries.send_delivery(delivery_id=delivery.pk, now=NOW)
    assert outcome.state == DeliveryState.PENDING
    delivery.refresh_from_db()
    assert "Could not connect" in delivery.last_error


def test_delivery_claimed_by_another_worker_is_not_sent_twice(db, fast_webhooks, secret):
    allow_private()
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    with Receiver(200) as receiver:
        endpoint_for(receiver.url)
        notify_assigned([user])
        delivery = WebhookDelivery.objects.get()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            lease_expires_at=NOW + timedelta(seconds=30)
        )
        assert deliveries.send_delivery(delivery_id=delivery.pk, now=NOW) == deliveries.SKIPPED
    assert receiver.received == []


def test_delivered_event_is_not_sent_again_by_a_late_task(db, fast_webhooks, secret):
    allow_private()
    with Receiver(200) as receiver:
        _outcome, delivery = deliver_once(receiver)
        again = deliveries.send_delivery(delivery_id=delivery.pk, now=NOW)
    assert again == deliveries.SKIPPED
    assert len(receiver.received) == 1


def test_same_notification_twice_makes_one_delivery(db, fast_webhooks):
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    endpoint_for("https://93.184.216.34/hook")
    notify_assigned([user], dedupe_key="incident:12:assigned:1")
    notify_assigned([user], dedupe_key="incident:12:assigned:1")
    assert WebhookDelivery.objects.count() == 1


def test_one_delivery_per_enabled_endpoint_receiving_the_kind(db):
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    receiving = endpoint_for("https://93.184.216.34/a")
    endpoint_for("https://93.184.216.34/b", kinds=["sla_breach"])
    endpoint_for("https://93.184.216.34/c", enabled=False)
    notify_assigned([user])
    assert [d.endpoint_id for d in WebhookDelivery.objects.all()] == [receiving.pk]


def test_drill_notifications_make_no_delivery(db):
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    endpoint_for("https://93.184.216.34/a")
    services.notify(users=[user], kind="assigned", title="Drill", now=NOW, origin="run:3")
    assert not WebhookDelivery.objects.exists()


def test_delivery_is_handed_to_a_worker_after_the_commit(db, django_capture_on_commit_callbacks):
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    user.email = ""
    user.save(update_fields=["email"])  # no e-mail callback: only the delivery's
    endpoint_for("https://93.184.216.34/a")
    with django_capture_on_commit_callbacks() as callbacks:
        notify_assigned([user])
    assert len(callbacks) == 1


# --- The sweeper -------------------------------------------------------------------------------


def pending_delivery(*, created_at=NOW, sweep_after=None, lease=None):
    endpoint = WebhookEndpoint.objects.first() or endpoint_for("https://93.184.216.34/a")
    event_id = uuid.uuid4()
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        kind="assigned",
        payload={"text": "x", "event": {"id": str(event_id)}},
        created_at=created_at,
        sweep_after=sweep_after or created_at + timedelta(minutes=2),
        lease_expires_at=lease,
        last_error="HTTP 503",
    )


def test_sweeper_hands_over_a_delivery_whose_hand_off_was_lost(db, redis_client):
    lost = pending_delivery()
    waiting = pending_delivery(created_at=NOW + timedelta(minutes=5))
    sending = pending_delivery(lease=NOW + timedelta(minutes=10))
    result = deliveries.sweep_deliveries(now=NOW + timedelta(minutes=3))
    assert result.handed_over == 1
    lost.refresh_from_db()
    # Not handed over again on the next run while its task has the chance to run.
    assert lost.sweep_after > NOW + timedelta(minutes=3)
    assert deliveries.sweep_deliveries(now=NOW + timedelta(minutes=3, seconds=30)).handed_over == 0
    waiting.refresh_from_db()
    sending.refresh_from_db()
    assert waiting.state == sending.state == DeliveryState.PENDING


def test_sweeper_gives_up_after_a_day(db, redis_client):
    old = pending_delivery(created_at=NOW - timedelta(hours=25))
    result = deliveries.sweep_deliveries(now=NOW)
    assert result.gave_up == 1
    old.refresh_from_db()
    assert old.state == DeliveryState.FAILED
    assert old.last_error == "Gave up after 24 h. HTTP 503"


def test_a_retry_after_a_day_gives_up_without_sending(db, fast_webhooks, secret):
    allow_private()
    with Receiver(200) as receiver:
        user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
        endpoint_for(receiver.url)
        notify_assigned([user], now=NOW - timedelta(hours=25))
        delivery = WebhookDelivery.objects.get()
        outcome = deliveries.send_delivery(delivery_id=delivery.pk, now=NOW)
    assert outcome.state == DeliveryState.FAILED
    assert receiver.received == []


def test_retry_keeps_the_sweeper_away_until_its_back_off_has_passed(db, fast_webhooks, secret):
    allow_private()
    with Receiver(503) as receiver:
        _outcome, delivery = deliver_once(receiver)
    assert delivery.sweep_after >= NOW + timedelta(seconds=FAST["WEBHOOK_BACKOFF_SECONDS"])
    assert deliveries.sweep_deliveries(now=NOW).handed_over == 0


# --- Private addresses (SSRF) ------------------------------------------------------------------

REFUSED_URLS = {
    "http://127.0.0.1:9/hook": "loopback",
    "http://10.1.2.3/hook": "private",
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://[::1]:9/hook": "loopback",
    "http://localhost:9/hook": "loopback",  # a name resolving to loopback
    "http://0.0.0.0/hook": "unspecified",
    "http://[::ffff:192.168.1.1]/hook": "private",
    "http://224.0.0.1/hook": "multicast",
    "http://100.64.0.1/hook": "not a public address",
}


@pytest.mark.parametrize(("url", "reason"), REFUSED_URLS.items())
def test_private_address_is_refused_at_send_time_with_a_clear_error(db, url, reason):
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    endpoint_for(url, secret_ref="")  # registered while an admin allowed it, then turned off
    notify_assigned([user])
    delivery = WebhookDelivery.objects.get()
    outcome = deliveries.send_delivery(delivery_id=delivery.pk, now=NOW)
    delivery.refresh_from_db()
    assert outcome.state == DeliveryState.FAILED
    assert delivery.last_error.startswith("Refused: ")
    assert reason in delivery.last_error
    assert "an admin allows private addresses" in delivery.last_error


@pytest.mark.parametrize(("url", "reason"), REFUSED_URLS.items())
def test_private_address_is_refused_at_registration(administrator, url, reason):
    with pytest.raises(ValidationError) as refused:
        deliveries.create_endpoint(
            actor=administrator,
            fields={"name": "x", "url": url, "secret_ref": "", "enabled": True, "kinds": []},
            now=NOW,
        )
    assert reason in str(refused.value.message_dict["url"])


def test_a_name_that_resolves_to_a_private_address_at_send_time_is_refused():
    """DNS rebinding: every address the name has now is checked, and the POST goes only to
    an address that was checked."""
    answers = iter([["93.184.216.34"], ["93.184.216.34", "127.0.0.1"]])
    target = webhooks.check_url("https://hooks.example.com/x")
    webhooks.allowed_addresses(target, allow_private=False, resolve=lambda *_: next(answers))
    with pytest.raises(webhooks.AddressRefused, match=r"127\.0\.0\.1 is a loopback address"):
        webhooks.post(
            "https://hooks.example.com/x",
            b"{}",
            headers={},
            allow_private=False,
            timeout=1,
            resolve=lambda *_: next(answers),
        )


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_are_allowed(address):
    assert webhooks.address_refusal(address) == ""


@pytest.mark.parametrize(
    "url", ["ftp://93.184.216.34/x", "https://user:pw@93.184.216.34/x", "https:///x"]
)
def test_only_plain_http_and_https_addresses(url):
    with pytest.raises(webhooks.PermanentDeliveryError):
        webhooks.check_url(url)


def test_private_addresses_are_reached_when_an_admin_allows_them(db, fast_webhooks, secret):
    allow_private()
    with Receiver(200) as receiver:
        outcome, _delivery = deliver_once(receiver)
    assert outcome.state == DeliveryState.DELIVERED


def test_disabled_endpoint_fails_its_pending_deliveries(db, fast_webhooks):
    user = wants_webhooks(UserFactory(username="ana", role=Role.COMMUNITY_MANAGER))
    endpoint = endpoint_for("https://93.184.216.34/a")
    notify_assigned([user])
    endpoint.enabled = False
    endpoint.save()
    delivery = WebhookDelivery.objects.get()
    assert deliveries.send_delivery(delivery_id=delivery.pk, now=NOW).state == "failed"


# --- The admins' pages, per role ---------------------------------------------------------------

ROLES = ["manager", "supervisor", "executive"]


@pytest.fixture
def endpoint(db):
    return endpoint_for("https://93.184.216.34/hook")


def page_urls(endpoint):
    return [
        ("get", reverse("notifications:webhooks")),
        ("get", reverse("notifications:webhook_create")),
        ("get", reverse("notifications:webhook_detail", args=[endpoint.pk])),
        ("get", reverse("notifications:webhook_edit", args=[endpoint.pk])),
        ("post", reverse("notifications:webhook_settings")),
        ("post", reverse("notifications:webhook_create")),
        ("post", reverse("notifications:webhook_edit", args=[endpoint.pk])),
        ("post", reverse("notifications:webhook_test", args=[endpoint.pk])),
        ("post", reverse("notifications:webhook_delete", args=[endpoint.pk])),
    ]


def test_anonymous_is_sent_to_login_from_every_webhook_url(client, endpoint):
    for method, url in page_urls(endpoint):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_other_roles_are_refused_every_webhook_url(client, request, role, endpoint):
    client.force_login(request.getfixturevalue(role))
    for method, url in page_urls(endpoint):
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.objects.exists()
    assert WebhookSettings.load().allow_private_addresses is False


@pytest.mark.parametrize("role", ROLES)
def test_other_roles_see_no_webhooks_link(client, request, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("profile"))
    assert reverse("notifications:webhooks") not in response.content.decode()


def test_admin_sees_the_list_with_a_link_in_the_navigation(client, administrator, endpoint):
    client.force_login(administrator)
    response = client.get(reverse("notifications:webhooks"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{reverse("notifications:webhooks")}"' in html
    assert "Ops channel" in html
    assert "allow private and loopback addresses" in html.lower()


def test_admin_empty_list_says_what_to_do(client, administrator):
    client.force_login(administrator)
    response = client.get(reverse("notifications:webhooks"))
    assert "No webhook endpoints yet" in response.content.decode()


def test_admin_adds_an_endpoint(client, administrator):
    client.force_login(administrator)
    response = client.get(reverse("notifications:webhook_create"))
    assert response.status_code == 200
    response = client.post(
        reverse("notifications:webhook_create"),
        {
            "name": "Slack #crisis",
            "url": "https://93.184.216.34/services/T000/B000",
            "secret_ref": "SLACK_CRISIS",
            "enabled": "on",
            "kinds": ["assigned", "sla_breach"],
        },
    )
    endpoint = WebhookEndpoint.objects.get()
    assert response.url == reverse("notifications:webhook_detail", args=[endpoint.pk])
    assert endpoint.kinds == ["assigned", "sla_breach"]
    assert endpoint.created_by == administrator
    event = AuditEvent.objects.get(verb="webhook.create")
    assert event.after["secret_ref"] == "SLACK_CRISIS"


def test_admin_is_told_why_a_loopback_address_is_refused(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("notifications:webhook_create"),
        {"name": "Local", "url": "http://127.0.0.1:8080/x", "enabled": "on", "kinds": ["assigned"]},
    )
    assert response.status_code == 200
    assert "127.0.0.1 is a loopback address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_admin_form_refuses_a_secret_written_in_place_of_its_reference(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("notifications:webhook_create"),
        {
            "name": "x",
            "url": "https://93.184.216.34/x",
            "secret_ref": "s3cr3t-value!",
            "kinds": ["assigned"],
        },
    )
    assert response.status_code == 200
    assert not WebhookEndpoint.objects.exists()


def test_admin_edits_an_endpoint(client, administrator, endpoint):
    client.force_login(administrator)
    assert client.get(reverse("notifications:webhook_edit", args=[endpoint.pk])).status_code == 200
    response = client.post(
        reverse("notifications:webhook_edit", args=[endpoint.pk]),
        {"name": "Renamed", "url": endpoint.url, "kinds": ["sla_warning"]},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.enabled, endpoint.kinds) == ("Renamed", False, ["sla_warning"])
    assert AuditEvent.objects.filter(verb="webhook.update").count() == 1


def test_admin_sends_a_test_event_and_sees_it_in_the_log(
    client, administrator, endpoint, django_capture_on_commit_callbacks
):
    client.force_login(administrator)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("notifications:webhook_test", args=[endpoint.pk]))
    assert response.status_code == 302
    assert len(callbacks) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.kind == "test"
    assert delivery.payload["event"]["recipient"] == administrator.username
    page = client.get(response.url).content.decode()
    assert str(delivery.event_id) in page
    assert "Test event" in page


def test_test_event_reaches_a_local_receiver(db, administrator, fast_webhooks, secret):
    allow_private()
    with Receiver(200) as receiver:
        endpoint = endpoint_for(receiver.url, enabled=False)  # tested before it is switched on
        delivery = deliveries.send_test_event(actor=administrator, endpoint=endpoint, now=NOW)
        assert deliveries.send_delivery(delivery_id=delivery.pk, now=NOW).state == "delivered"
    [request] = receiver.received
    assert verify_signature(secret, request.body, request.headers["X-Calma-Signature"])
    assert request.headers["X-Calma-Event"] == "test"


def test_delivery_log_shows_the_last_fifty_with_status_attempts_and_error(
    client, administrator, endpoint
):
    for number in range(55):
        delivery = pending_delivery(created_at=NOW + timedelta(seconds=number))
        delivery.attempts = 3
        delivery.last_error = f"error number {number}"
        delivery.save()
    client.force_login(administrator)
    html = client.get(reverse("notifications:webhook_detail", args=[endpoint.pk])).content.decode()
    assert "error number 54" in html
    assert "error number 4<" not in html  # the fifth oldest is older than the last fifty
    assert html.count('class="badge delivery-pending"') == 50


def test_delivery_log_refreshes_as_a_fragment_for_htmx(client, administrator, endpoint):
    pending_delivery()
    client.force_login(administrator)
    response = client.get(
        reverse("notifications:webhook_detail", args=[endpoint.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html
    assert "delivery-pending" in html


def test_delivery_log_escapes_what_a_receiver_answered(client, administrator, endpoint):
    delivery = pending_delivery()
    delivery.last_error = "HTTP 400: <script>alert(1)</script>"
    delivery.save()
    client.force_login(administrator)
    html = client.get(reverse("notifications:webhook_detail", args=[endpoint.pk])).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html


def test_admin_deletes_an_endpoint(client, administrator, endpoint):
    client.force_login(administrator)
    response = client.post(reverse("notifications:webhook_delete", args=[endpoint.pk]))
    assert response.url == reverse("notifications:webhooks")
    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(verb="webhook.delete").count() == 1


def test_delete_and_test_refuse_get(client, administrator, endpoint):
    client.force_login(administrator)
    for name in ("webhook_delete", "webhook_test"):
        assert client.get(reverse(f"notifications:{name}", args=[endpoint.pk])).status_code == 405
    assert client.get(reverse("notifications:webhook_settings")).status_code == 405


def test_unknown_endpoint_is_404(client, administrator):
    client.force_login(administrator)
    assert client.get(reverse("notifications:webhook_detail", args=[999])).status_code == 404


def test_admin_allows_private_addresses_and_it_is_audited(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("notifications:webhook_settings"), {"allow_private_addresses": "on"}
    )
    assert response.url == reverse("notifications:webhooks")
    assert WebhookSettings.load().allow_private_addresses is True
    event = AuditEvent.objects.get(verb="webhook.settings_changed")
    assert event.after == {"allow_private_addresses": True}
    client.post(reverse("notifications:webhook_settings"), {})
    assert WebhookSettings.load().allow_private_addresses is False


def test_tasks_are_registered_under_the_names_beat_and_the_hand_off_use(settings):
    from crisis.notifications import tasks

    assert tasks.deliver_webhook.name == "crisis.notifications.tasks.deliver_webhook"
    assert tasks.sweep_webhook_deliveries.name == (
        "crisis.notifications.tasks.sweep_webhook_deliveries"
    )
    beat_tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks.sweep_webhook_deliveries.name in beat_tasks
