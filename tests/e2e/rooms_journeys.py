"""What the crisis-room journeys share: the people of a cabinet (cabinet-member logins from
communications and legal, an outsider seated in another crisis), a surge of complaints on one
hashtag stored and scored through the real scoring stage (which raises the crisis suggestion
the room is declared from), a simulated Mastodon the brand's account posts the statement to,
and the rooms each journey starts from, built with the slices' own services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from crisis.incidents.services import handle_scored_mentions
from crisis.replies.models import PublishingAccount
from crisis.roles import Role, ensure_role_groups
from monitoring.models import Author, Mention
from monitoring.platforms import Platform
from monitoring.simulator.server import SimulatorServer
from monitoring.simulator.world import World
from protocols.models import CrisisSuggestion
from protocols.pipeline import score_and_store
from protocols.services import active_version
from tests.e2e.journeys import demo_people

TOPIC = "apagonbrisa"  # the hashtag the surge is about: a topic of its own
TITLE = "Apagón de fibra en Valencia"
LEVEL = 3  # critical: the statement also needs the cabinet's legal member (legal_approval_levels)

# The publishing account's secret lives in the environment (crisis.replies.models).
ACCOUNT_REF = "ROOM_MASTODON"
ACCESS_TOKEN = "room-journey-mastodon-write-token"  # the simulator takes this one only
BRAND_HANDLE = "brisa"

# Complaints the default protocol scores 51 (medium) from a small account and 56 (high) from
# one with 5,000 followers: a draft lowering the high threshold to 50 turns the early ones high
# and crosses the crisis threshold (5 serious mentions in 30 minutes) much sooner.
COMPLAINTS = (
    "#apagonbrisa llevo dos días sin internet, es una vergüenza y nadie responde",
    "#apagonbrisa sin conexión desde ayer, pésimo servicio, voy a poner una reclamación",
)
SMALL, LARGE = 500, 5_000
DRAFT_HIGH_THRESHOLD = 50


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    role: Role

    @property
    def password(self) -> str:
        return f"calma-{self.username}"  # as the demo logins (journeys.sign_in)


# Cabinet-member logins: people from other departments, who see only the crises they sit in.
COMMANDER = Person("carmen", Role.CABINET_MEMBER)  # communications, takes the command over
SPOKESPERSON = Person("sofia", Role.CABINET_MEMBER)  # communications, drafts the statement
LEGAL = Person("lorena", Role.CABINET_MEMBER)  # legal, the statement's legal approval
OUTSIDER = Person("otto", Role.CABINET_MEMBER)  # sits in another crisis only
CABINET_PEOPLE = (COMMANDER, SPOKESPERSON, LEGAL, OUTSIDER)


def default_departments() -> None:
    """The departments migration 0002 creates: a transactional test's flush empties the table
    (the protocol comes back by its post_migrate handler; the departments have none)."""
    migration = import_module("crisis.rooms.migrations.0002_default_departments")
    migration.create_default_departments(django_apps, None)


def crisis_people() -> dict[str, object]:
    """The default departments, the demo logins (manager, supervisor, executive, admin) and the
    cabinet's people, by username."""
    default_departments()
    demo_people()
    ensure_role_groups()
    user_model = get_user_model()
    for person in CABINET_PEOPLE:
        user, _created = user_model.objects.get_or_create(
            username=person.username, defaults={"email": f"{person.username}@brisa.example"}
        )
        user.first_name = person.username.capitalize()
        user.is_active = True
        user.set_password(person.password)
        user.save()
        user.groups.set([Group.objects.get(name=person.role.value)])
    return {user.username: user for user in user_model.objects.all()}


# --- the surge --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Surge:
    mentions: list[Mention]
    suggestion: CrisisSuggestion
    raised_at: datetime


def complaint_surge(*, now: datetime) -> Surge:
    """Twelve complaints on #apagonbrisa from twelve accounts, stored and scored one by one at
    their own time through the real scoring stage (and handed to the incident stage), as the
    worker would have: six medium ones from small accounts three hours ago, then six high ones
    from larger accounts; the fifth high one crosses the crisis threshold and the stage raises
    the suggestion on the topic."""
    version = active_version()
    start = (now - timedelta(hours=3)).replace(microsecond=0)
    plan = [(start + timedelta(minutes=5 * n), SMALL) for n in range(6)]
    plan += [(start + timedelta(minutes=70 + 5 * n), LARGE) for n in range(6)]
    mentions = []
    for number, (published, followers) in enumerate(plan):
        author = Author.objects.create(
            platform=Platform.MASTODON,
            handle=f"vecino{number}",
            display_name=f"Vecino {number}",
            followers=followers,
        )
        mention = Mention.objects.create(
            platform=Platform.MASTODON,
            external_id=str(110_000_000_000_000_000 + number),
            author=author,
            text=COMPLAINTS[number % 2],
            language="es",
            published_at=published,
            ingested_at=published,
            url=f"https://mastodon.example/@vecino{number}/{110_000_000_000_000_000 + number}",
        )
        # A past mention is not counted in the live surge detector (observe_spikes=False);
        # the stage's crisis rule still runs on the stored topics after the commit.
        score_and_store([mention.pk], version=version, observe_spikes=False, now=published)
        handle_scored_mentions(mention_ids=[mention.pk], now=published)
        mentions.append(mention)
    suggestion = CrisisSuggestion.objects.get(topic=TOPIC, dismissed_at__isnull=True)
    return Surge(mentions=mentions, suggestion=suggestion, raised_at=suggestion.raised_at)


# --- the simulated Mastodon the statement goes out on -----------------------------------------
def empty_world(*, now: datetime) -> World:
    return World(
        [],
        seed=0,
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=1),
        crisis_at=None,
        channel_id="UCroomjourneyroomjourney0",
        videos=(),
    )


def mastodon_simulator(*, now: datetime) -> SimulatorServer:
    """A simulated Mastodon (start it with `with`) taking writes from the brand's token only."""
    return SimulatorServer(
        empty_world(now=now),
        clock=now,
        write_accounts={"mastodon": {ACCESS_TOKEN: BRAND_HANDLE}},
    )


def brand_account_on(server: SimulatorServer, monkeypatch) -> PublishingAccount:
    """The brand's publishing account on the simulated Mastodon, its token in the
    environment (of this process: the live server and the worker threads read it too)."""
    monkeypatch.setenv(f"CALMA_SECRET_{ACCOUNT_REF}_ACCESS_TOKEN", ACCESS_TOKEN)
    return PublishingAccount.objects.create(
        platform=Platform.MASTODON,
        name="Brisa on Mastodon",
        handle=BRAND_HANDLE,
        base_url=server.url("mastodon"),
        credentials_ref=ACCOUNT_REF,
    )


# --- the rooms each journey starts from (the slices' own services) ----------------------------
def convened_crisis(people: dict, surge: Surge, *, now: datetime):
    """What the declaration journey leaves: the supervisor accepted the suggestion at level 3,
    seated the spokesperson (communications), the legal member and the manager (customer
    service), and handed command to Carmen (communications)."""
    from crisis.rooms import crises
    from crisis.rooms.models import CabinetRole

    supervisor = people["supervisor"]
    crisis = crises.accept_suggestion(
        actor=supervisor, suggestion=surge.suggestion, title=TITLE, level=LEVEL, now=now
    )
    seats = (
        (SPOKESPERSON.username, "communications", CabinetRole.SPOKESPERSON),
        (LEGAL.username, "legal", CabinetRole.MEMBER),
        ("manager", "customer_service", CabinetRole.MEMBER),
    )
    for username, department, role in seats:
        crises.add_member(
            actor=supervisor,
            crisis=crisis,
            user=people[username],
            department=department,
            role=role,
            now=now,
        )
    return crises.hand_over_command(
        actor=supervisor,
        crisis=crisis,
        to_user=people[COMMANDER.username],
        department="communications",
        now=now,
    )


def another_crisis_with_outsider(people: dict, *, now: datetime):
    """A second crisis (on billing), where only the outsider sits besides its commander."""
    from crisis.rooms import crises

    supervisor = people["supervisor"]
    crisis = crises.declare_crisis(
        actor=supervisor, title="Cobros duplicados", level=1, topics=["billing"], now=now
    )
    crises.add_member(
        actor=supervisor,
        crisis=crisis,
        user=people[OUTSIDER.username],
        department="strategic_direction",
        now=now,
    )
    return crisis


# --- the statement ----------------------------------------------------------------------------
# Longer than Bluesky's 300 characters (so that channel gets a short text of its own), within
# Mastodon's 500 (so Mastodon publishes the statement itself).
STATEMENT = (
    "Desde el lunes por la tarde parte de Valencia está sin fibra por una avería en nuestra "
    "red. Nuestros técnicos trabajan día y noche y esperamos recuperar el servicio en las "
    "próximas horas. Devolveremos la cuota de diciembre a todos los afectados antes del "
    "viernes. Os informaremos aquí cada hora. Lo sentimos de verdad."
)
BLUESKY_TEXT = (
    "Avería de fibra en Valencia: recuperamos el servicio en horas y devolveremos la cuota de "
    "diciembre antes del viernes."
)
PROMISE = "Devolveremos la cuota de diciembre a todos los afectados antes del viernes."
BLOG_URL = "https://brisa.example/blog/averia-fibra-valencia"


def approved_statement(people: dict, crisis, *, now: datetime):
    """What the statement journey leaves before publishing: the spokesperson's version 1,
    approved by the supervisor and the legal member (level 3)."""
    from crisis.rooms import statement

    version = statement.start_statement_version(
        actor=people[SPOKESPERSON.username], crisis=crisis, now=now
    )
    version = statement.save_statement(
        actor=people[SPOKESPERSON.username],
        version=version,
        text=STATEMENT,
        channel_texts={"bluesky": BLUESKY_TEXT},
        now=now,
    )
    version = statement.submit_statement(
        actor=people[SPOKESPERSON.username], version=version, now=now
    )
    version = statement.approve_statement(
        actor=people["supervisor"], version=version, role="supervisor", now=now
    )
    return statement.approve_statement(
        actor=people[LEGAL.username], version=version, role="legal", now=now
    )


def statement_out(people: dict, crisis, *, now: datetime):
    """The approved statement published on every channel of its checklist (each marked by the
    spokesperson with its link) and its promise kept: the commitment's task done."""
    from crisis.rooms import plan, publishing, statement
    from crisis.rooms.models import Publication, TaskStatus

    version = approved_statement(people, crisis, now=now)
    spokesperson = people[SPOKESPERSON.username]
    for publication in Publication.objects.filter(version=version):
        publishing.mark_published(
            actor=spokesperson,
            publication=publication,
            url=f"https://brisa.example/{publication.channel}/aviso",
            now=now,
        )
    commitment = statement.mark_commitment(
        actor=spokesperson,
        version=version,
        sentence=PROMISE,
        due_at=now + timedelta(days=3),
        owner=people["manager"],
        now=now,
    )
    plan.set_task_status(
        actor=people["manager"], task=commitment.task, status=TaskStatus.DONE, now=now
    )
    return version


def resolved_with_post_mortem(people: dict, crisis, *, now: datetime):
    """The commander resolved the crisis and started its post-mortem, with a summary."""
    from crisis.rooms import postmortem, resolution

    commander = people[COMMANDER.username]
    crisis = resolution.resolve_crisis(
        actor=commander, crisis=crisis, note="Servicio restablecido.", now=now
    )
    post_mortem = postmortem.start_post_mortem(actor=commander, crisis=crisis, now=now)
    return postmortem.update_post_mortem(
        actor=commander,
        post_mortem=post_mortem,
        now=now,
        summary="Una avería de fibra dejó sin servicio a parte de Valencia.",
    )
