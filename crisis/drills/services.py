"""Writes of drills: store a scenario (an uploaded CSV, or the simulator's billing crisis),
start a drill as a run, advance it with the scenario clock, close it."""

import bisect
import csv
import io
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from crisis.drills.models import (
    MAX_SPEED,
    MIN_SPEED,
    Drill,
    DrillStatus,
    Scenario,
    ScenarioKind,
)
from crisis.roles import Perm, Role
from crisis.services.audit import record_audit_event
from protocols.models import Run, RunKind

logger = logging.getLogger(__name__)

ADVANCE_TASK = "crisis.drills.tasks.advance_drill"
# An uploaded scenario: the CSV import's own cap; a drill is minutes to hours of mentions.
MAX_SCENARIO_BYTES = 5 * 1024 * 1024
MAX_SCENARIO_ROWS = 20_000
NAME_MAX_LENGTH = Scenario._meta.get_field("name").max_length
# Row errors named in the refusal (the rest are counted).
ERRORS_SHOWN = 10
# Rows one tick plays at most: a drill at a high speed catches up over a few ticks instead of
# holding a worker for minutes.
ROWS_PER_TICK = 100
# A tick's claim on its drill lapses after this long (a worker that died mid-tick).
TICK_CLAIM_SECONDS = 120
# A running drill not ticked for this long lost its chain of ticks (the beat restarts it).
STALLED_AFTER_SECONDS = 30
# The simulator scenario's columns (the CSV import format).
SIMULATOR_COLUMNS = (
    "id",
    "url",
    "text",
    "published_at",
    "author",
    "author_followers",
    "language",
    "platform",
)


class DrillError(Exception):
    """A refusal a supervisor can act on (its message is translated)."""


def require_supervisor(actor: AbstractBaseUser) -> None:
    if not actor.has_perm(Perm.SUPERVISE_INCIDENTS):
        raise PermissionDenied(gettext("Only supervisors run drills."))


# --- scenarios ---------------------------------------------------------------------------------


def create_csv_scenario(
    *, actor: AbstractBaseUser, name: str, data: bytes, now: datetime
) -> Scenario:
    """Store an uploaded CSV in the import format as a scenario, once every row is valid
    (a drill replays the file as it is: a row the import would quarantine is refused here,
    with its line and column)."""
    require_supervisor(actor)
    name = _clean_name(name)
    if len(data) > MAX_SCENARIO_BYTES:
        raise DrillError(
            gettext("The file is larger than %(limit)s MB.")
            % {"limit": MAX_SCENARIO_BYTES // (1024 * 1024)}
        )
    parsed = _parse(data)
    text = data.decode("utf-8-sig")
    return _store(actor=actor, name=name, kind=ScenarioKind.CSV, text=text, rows=parsed, now=now)


def create_simulator_scenario(
    *,
    actor: AbstractBaseUser,
    name: str,
    now: datetime,
    seed: int = 7,
    hours: float = 2.0,
    crisis_at_minutes: float = 45.0,
) -> Scenario:
    """The simulator's billing crisis as a scenario: `hours` of ordinary conversation ending
    now (the import refuses mentions from the future) with the crisis from
    `crisis_at_minutes`."""
    require_supervisor(actor)
    name = _clean_name(name) or gettext("Simulator's billing crisis")
    data = simulator_csv(
        seed=seed,
        start=now - timedelta(hours=hours),
        hours=hours,
        crisis_at_minutes=crisis_at_minutes,
    )
    parsed = _parse(data)
    return _store(
        actor=actor,
        name=name,
        kind=ScenarioKind.SIMULATOR,
        text=data.decode("utf-8"),
        rows=parsed,
        now=now,
    )


def simulator_csv(
    *, seed: int, start: datetime, hours: float, crisis_at_minutes: float | None
) -> bytes:
    """The simulator's posts (monitoring.simulator.world) in the CSV import format."""
    from monitoring.simulator.world import World

    world = World.generate(seed, start, hours, crisis_at_minutes=crisis_at_minutes)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SIMULATOR_COLUMNS)
    for post in world.posts:
        writer.writerow(
            [
                post.external_id,
                post.url
                or f"https://{post.platform}.example/{post.author.handle}/{post.external_id}",
                post.text,
                post.published_at.isoformat(),
                post.author.handle,
                post.author.followers,
                post.language,
                post.platform,
            ]
        )
    return out.getvalue().encode("utf-8")


def _clean_name(name: str) -> str:
    name = " ".join((name or "").replace("\x00", "").split())
    if len(name) > NAME_MAX_LENGTH:
        raise DrillError(
            gettext("Give the scenario a name of at most %(count)s characters.")
            % {"count": NAME_MAX_LENGTH}
        )
    return name


def _parse(data: bytes):
    """The scenario's rows (replay.scenario_from_csv), or a refusal naming the bad rows."""
    from crisis.drills.replay import ScenarioError, scenario_from_csv

    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DrillError(gettext("The file is not UTF-8 text.")) from error
    try:
        parsed = scenario_from_csv(data)
    except ScenarioError as error:
        raise DrillError(str(error)) from error
    if parsed.errors:
        shown = "; ".join(str(error) for error in parsed.errors[:ERRORS_SHOWN])
        more = len(parsed.errors) - ERRORS_SHOWN
        message = gettext("Fix these rows and upload again: %(errors)s") % {"errors": shown}
        if more > 0:
            message += " " + gettext("(and %(count)s more)") % {"count": more}
        raise DrillError(message)
    if not parsed.rows:
        raise DrillError(gettext("The file has no mentions to play."))
    if len(parsed.rows) > MAX_SCENARIO_ROWS:
        raise DrillError(
            gettext("A scenario holds at most %(count)s mentions.") % {"count": MAX_SCENARIO_ROWS}
        )
    return parsed


def _store(*, actor, name: str, kind: str, text: str, rows, now: datetime) -> Scenario:
    with transaction.atomic():
        scenario = Scenario.objects.create(
            name=name or gettext("Scenario of %(count)s mentions") % {"count": len(rows.rows)},
            kind=kind,
            data=text,
            rows=len(rows.rows),
            created_by=actor,
            created_at=now,
        )
        record_audit_event(
            actor=actor,
            verb="drill.scenario_create",
            target=scenario,
            after={"name": scenario.name, "kind": kind, "rows": scenario.rows},
        )
    return scenario


@lru_cache(maxsize=8)
def _parsed_scenario(scenario_id: int, content_hash: int):
    # A scenario never changes once stored; keyed by its id and content all the same.
    data = Scenario.objects.values_list("data", flat=True).get(pk=scenario_id)
    from crisis.drills.replay import scenario_from_csv

    return scenario_from_csv(data.encode("utf-8"))


def parsed_scenario(scenario: Scenario):
    return _parsed_scenario(scenario.pk, hash(scenario.data))


# --- drills ------------------------------------------------------------------------------------


def default_participants(starter: AbstractBaseUser):
    """The starter and every active community manager."""
    return (
        get_user_model()
        .objects.filter(
            Q(pk=starter.pk) | Q(is_active=True, groups__name=Role.COMMUNITY_MANAGER.value)
        )
        .distinct()
    )


def start_drill(
    *,
    actor: AbstractBaseUser,
    scenario: Scenario,
    speed: int,
    now: datetime,
    participants=None,
) -> Drill:
    """Start playing a scenario as a drill: a run of kind drill (its own origin, detector
    state and clock) whose participants alone are routed its incidents and told about it."""
    require_supervisor(actor)
    if not MIN_SPEED <= int(speed) <= MAX_SPEED:
        raise DrillError(
            gettext("Choose a speed from %(low)s to %(high)s.")
            % {"low": MIN_SPEED, "high": MAX_SPEED}
        )
    parsed = parsed_scenario(scenario)
    if not parsed.rows:
        raise DrillError(gettext("This scenario has no mentions to play."))
    people = list(participants if participants is not None else default_participants(actor))
    if actor.pk not in {person.pk for person in people}:
        people.append(actor)
    with transaction.atomic():
        run = Run.objects.create(
            key=f"drill:{uuid.uuid4().hex}",
            kind=RunKind.DRILL,
            label=scenario.name[: Run._meta.get_field("label").max_length],
            started_at=now,
            total=len(parsed.rows),
        )
        run.participants.set(people)
        drill = Drill.objects.create(
            run=run,
            scenario=scenario,
            speed=int(speed),
            started_by=actor,
            started_at=now,
            scenario_start=parsed.rows[0].published_at,
        )
        record_audit_event(
            actor=actor,
            verb="drill.start",
            target=drill,
            after={
                "scenario": scenario.pk,
                "speed": drill.speed,
                "run": run.pk,
                "participants": sorted(person.pk for person in people),
            },
        )
        transaction.on_commit(lambda: enqueue_tick(drill.pk), robust=True)
    return drill


def scenario_time(drill: Drill, at: datetime) -> datetime:
    """The scenario's time at a wall-clock moment: the first row's time plus the time since
    the start, `speed` times over."""
    return drill.scenario_start + (at - drill.started_at) * drill.speed


@dataclass(frozen=True, slots=True)
class Tick:
    played: int  # rows played by this tick
    events: int  # events the rows raised
    more_due: bool  # rows already due were left for the next tick (the bound per tick)
    running: bool  # the drill still has rows to play


def advance_drill(*, drill_id: int, now: datetime, limit: int = ROWS_PER_TICK) -> Tick | None:
    """Play the rows due by the scenario clock (at most `limit`), route the drill's new
    incidents among its participants, mark the drill played after its last row. Returns None
    when there was nothing to do: the drill is not running or another worker is ticking it."""
    from crisis.drills.replay import Player
    from crisis.incidents.routing import route_run_incidents

    claimed = Drill.objects.filter(
        Q(ticking_until__isnull=True) | Q(ticking_until__lt=now),
        pk=drill_id,
        status=DrillStatus.RUNNING,
    ).update(ticking_until=now + timedelta(seconds=TICK_CLAIM_SECONDS))
    if not claimed:
        return None
    try:
        drill = Drill.objects.select_related("run", "scenario").get(pk=drill_id)
        parsed = parsed_scenario(drill.scenario)
        before = drill.run.played
        events = Player(drill.run, parsed).play_until(scenario_time(drill, now), limit=limit)
        drill.run.refresh_from_db()
        played = drill.run.played - before
        route_run_incidents(run_id=drill.run_id, now=scenario_time(drill, now))
        finished = drill.run.played >= drill.run.total
        if finished:
            _mark_played(drill, now=now)
        due = bisect.bisect_right(
            parsed.rows, scenario_time(drill, now), key=lambda row: row.published_at
        )
        return Tick(
            played=played,
            events=len(events),
            more_due=not finished and drill.run.played < due,
            running=not finished,
        )
    finally:
        Drill.objects.filter(pk=drill_id).update(ticking_until=None, ticked_at=now)


def _mark_played(drill: Drill, *, now: datetime) -> None:
    with transaction.atomic():
        changed = Drill.objects.filter(pk=drill.pk, status=DrillStatus.RUNNING).update(
            status=DrillStatus.PLAYED, played_at=now
        )
        if changed:
            record_audit_event(
                actor=None,
                verb="drill.played",
                target=drill,
                after={"rows": drill.run.played, "played_at": now.isoformat()},
            )


def close_drill(*, actor: AbstractBaseUser, drill: Drill, now: datetime) -> Drill:
    """The supervisor ends the drill (played or not): nothing more is played, its incidents
    leave the participants' inbox, its report stays."""
    require_supervisor(actor)
    with transaction.atomic():
        drill = Drill.objects.select_for_update().select_related("run").get(pk=drill.pk)
        if drill.status == DrillStatus.CLOSED:
            raise DrillError(gettext("This drill is already closed."))
        before = drill.status
        drill.status = DrillStatus.CLOSED
        drill.closed_at = now
        drill.closed_by = actor
        drill.save(update_fields=["status", "closed_at", "closed_by"])
        Run.objects.filter(pk=drill.run_id).update(finished_at=now)
        record_audit_event(
            actor=actor,
            verb="drill.close",
            target=drill,
            before={"status": before},
            after={"status": DrillStatus.CLOSED, "closed_at": now.isoformat()},
        )
    return drill


def enqueue_tick(drill_id: int, *, countdown: float = 0) -> None:
    """Hand the drill's next tick to a worker (the beat's sweep picks it up if this fails)."""
    from celery import current_app
    from kombu.exceptions import KombuError

    try:
        current_app.send_task(ADVANCE_TASK, args=[drill_id], countdown=countdown)
    except (KombuError, OSError) as error:
        logger.warning("drill %s tick not enqueued (%s)", drill_id, error)


def stalled_drill_ids(*, now: datetime) -> list[int]:
    """Running drills whose ticks stopped: none for STALLED_AFTER_SECONDS (a live chain ticks
    every few seconds, so the beat does not start a second chain beside it)."""
    stale = now - timedelta(seconds=STALLED_AFTER_SECONDS)
    return list(
        Drill.objects.filter(status=DrillStatus.RUNNING)
        .filter(Q(ticked_at__isnull=True, started_at__lt=stale) | Q(ticked_at__lt=stale))
        .filter(Q(ticking_until__isnull=True) | Q(ticking_until__lt=now))
        .values_list("pk", flat=True)
    )
