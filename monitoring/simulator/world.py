"""A seedable, deterministic stream of posts about the fictitious telecom brand Brisa."""

from __future__ import annotations

import base64
import bisect
import hashlib
import math
import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from monitoring.platforms import Platform
from monitoring.simulator import texts


class Kind(StrEnum):
    CHATTER = "chatter"
    PRAISE = "praise"
    QUESTION = "question"
    COMPLAINT = "complaint"
    CRISIS_COMPLAINT = "crisis_complaint"
    INFLUENCER = "influencer"
    AUTHORITY = "authority"
    TROLL = "troll"


class Topic(StrEnum):
    BILLING = "billing"
    COVERAGE = "coverage"
    CUSTOMER_SERVICE = "customer_service"
    PRICES = "prices"
    GENERAL = "general"


SIMULATED_PLATFORMS: tuple[str, ...] = (
    Platform.MASTODON.value,
    Platform.BLUESKY.value,
    Platform.REDDIT.value,
    Platform.YOUTUBE.value,
    Platform.FEED.value,
)
GOOGLE_ALERTS = "google-alerts"
TALKWALKER = "talkwalker"
BRAND_CHANNEL_TITLE = "Brisa"


@dataclass(frozen=True, slots=True)
class SimAuthor:
    """An account as one platform knows it."""

    handle: str  # Mastodon username, Bluesky handle, Reddit name, YouTube @handle, site domain
    display_name: str
    followers: int
    verified: bool = False
    account_id: str = ""  # Mastodon account id, did:plc, Reddit t2_ fullname, YouTube UC… id
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SimPost:
    platform: str  # a monitoring.platforms.Platform value
    external_id: str  # the platform's native id (status id, at:// uri, fullname, comment id…)
    published_at: datetime  # aware UTC, at the precision the platform's API shows
    author: SimAuthor
    text: str  # plain text as the author typed it (the wire layer adds HTML where due)
    language: str  # "es" or "en"
    kind: str  # a Kind value
    topic: str  # a Topic value
    is_surge: bool = False  # part of the scripted crisis
    reply_to: str = ""  # external_id of the parent on the same platform
    thread_id: str = ""  # external_id of the thread's root (Reddit: the t3 fullname)
    title: str = ""  # Reddit submission or feed article title
    community: str = ""  # subreddit, YouTube video id, or feed name (google-alerts/talkwalker)
    url: str = ""  # the article's own address (feeds)
    quote_of: str = ""  # Bluesky: uri of the quoted post
    likes: int = 0
    reposts: int = 0


@dataclass(frozen=True, slots=True)
class SimVideo:
    video_id: str
    title: str
    published_at: datetime
    language: str


# --- native identifiers -------------------------------------------------------------------
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_BASE32_LOWER = "abcdefghijklmnopqrstuvwxyz234567"
_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def to_base36(number: int) -> str:
    digits = ""
    while True:
        number, remainder = divmod(number, 36)
        digits = _BASE36[remainder] + digits
        if not number:
            return digits


def mastodon_snowflake(moment: datetime, rng: random.Random) -> int:
    """Mastodon's id layout: milliseconds since the epoch in the high bits, 16 random bits."""
    return (int(moment.timestamp() * 1000) << 16) | rng.getrandbits(16)


def bluesky_tid(moment: datetime, clock_id: int) -> str:
    """An atproto TID: 53 bits of microseconds and 10 bits of clock id, base32-sortable."""
    value = (int(moment.timestamp() * 1_000_000) << 10) | (clock_id & 0x3FF)
    encoded = ""
    for _ in range(13):
        encoded = _TID_ALPHABET[value & 31] + encoded
        value >>= 5
    return encoded


def bluesky_cid(seed: str) -> str:
    """A CIDv1 (dag-cbor, sha2-256) in base32, the shape of a real record CID."""
    digest = hashlib.sha256(seed.encode()).digest()
    raw = bytes((0x01, 0x71, 0x12, 0x20)) + digest
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def _random_chars(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def slugify(value: str, separator: str = "-", limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", separator, ascii_text.lower()).strip(separator)
    return slug[:limit].rstrip(separator)


# --- the world ----------------------------------------------------------------------------
class World:
    """An immutable stream of posts over [start, end), sorted by publication time."""

    def __init__(
        self,
        posts: Iterable[SimPost],
        *,
        seed: int,
        start: datetime,
        end: datetime,
        crisis_at: datetime | None,
        channel_id: str,
        videos: Sequence[SimVideo],
    ) -> None:
        self.seed = seed
        self.start = start
        self.end = end
        self.crisis_at = crisis_at
        self.channel_id = channel_id
        self.videos = tuple(videos)
        self.posts: tuple[SimPost, ...] = tuple(
            sorted(posts, key=lambda post: (post.published_at, post.platform, post.external_id))
        )
        self._times = [post.published_at for post in self.posts]
        self._by_platform: dict[str, list[SimPost]] = defaultdict(list)
        self._position: dict[tuple[str, str], int] = {}
        self._children: dict[tuple[str, str], list[SimPost]] = defaultdict(list)
        self._quotes: dict[tuple[str, str], list[SimPost]] = defaultdict(list)
        self._authors: dict[tuple[str, str], SimAuthor] = {}
        for position, post in enumerate(self.posts):
            self._by_platform[post.platform].append(post)
            self._position[(post.platform, post.external_id)] = position
            self._authors.setdefault((post.platform, post.author.handle.lower()), post.author)
            if post.reply_to:
                self._children[(post.platform, post.reply_to)].append(post)
            if post.quote_of:
                self._quotes[(post.platform, post.quote_of)].append(post)

    # -- construction --
    @classmethod
    def generate(
        cls,
        seed: int,
        start: datetime,
        hours: float = 6.0,
        chatter_per_hour: float = 60.0,
        crisis_at_minutes: float | None = 30.0,
    ) -> World:
        """Background traffic over `hours`, plus the billing crisis from `crisis_at_minutes`."""
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        start = start.astimezone(UTC)
        builder = _Builder(
            random.Random(seed),  # noqa: S311 - simulation, not security
            start,
            start + timedelta(hours=hours),
        )
        builder.background(chatter_per_hour)
        crisis_at = None
        if crisis_at_minutes is not None:
            crisis_at = start + timedelta(minutes=crisis_at_minutes)
            builder.crisis(crisis_at)
        return cls(
            builder.build(),
            seed=seed,
            start=start,
            end=builder.end,
            crisis_at=crisis_at,
            channel_id=builder.channel_id,
            videos=builder.videos,
        )

    @classmethod
    def quiet_day(cls, seed: int, start: datetime, chatter_per_hour: float = 60.0) -> World:
        """Twenty-four hours of ordinary conversation, without a crisis."""
        return cls.generate(seed, start, 24.0, chatter_per_hour, crisis_at_minutes=None)

    # -- reading --
    def __len__(self) -> int:
        return len(self.posts)

    def posts_for(self, platform: str) -> list[SimPost]:
        return list(self._by_platform.get(str(platform), ()))

    def visible_at(self, now: datetime, platform: str | None = None) -> list[SimPost]:
        """Posts published at or before `now`, oldest first."""
        visible = self.posts[: bisect.bisect_right(self._times, now)]
        if platform is None:
            return list(visible)
        return [post for post in visible if post.platform == platform]

    def surge_window(self) -> tuple[datetime, datetime] | None:
        """Publication times of the first and the last post of the crisis surge."""
        surge = [post.published_at for post in self.posts if post.is_surge]
        return (surge[0], surge[-1]) if surge else None

    def find(self, platform: str, external_id: str) -> SimPost | None:
        position = self._position.get((str(platform), external_id))
        return None if position is None else self.posts[position]

    def position(self, post: SimPost) -> int:
        """Global order of a post (time, then platform, then id): the key cursors encode."""
        return self._position[(post.platform, post.external_id)]

    def replies_to(self, post: SimPost, now: datetime | None = None) -> list[SimPost]:
        replies = self._children.get((post.platform, post.external_id), [])
        return [reply for reply in replies if now is None or reply.published_at <= now]

    def quotes_of(self, post: SimPost, now: datetime | None = None) -> list[SimPost]:
        quotes = self._quotes.get((post.platform, post.external_id), [])
        return [quote for quote in quotes if now is None or quote.published_at <= now]

    def author_named(self, platform: str, handle: str) -> SimAuthor | None:
        """The account with this handle on a platform (case-insensitive), if it ever posted."""
        return self._authors.get((str(platform), handle.lower()))

    def thread_replies(self, root: SimPost, now: datetime | None = None) -> list[SimPost]:
        """Every reply anywhere under `root` (oldest first)."""
        found: list[SimPost] = []
        pending = [root]
        while pending:
            children = self.replies_to(pending.pop(), now)
            found.extend(children)
            pending.extend(children)
        return sorted(found, key=self.position)


# --- generation ---------------------------------------------------------------------------
_TOPIC_PATTERNS = (
    (Topic.BILLING, r"factur|cobr|recibo|cargo|bill|charg|debit|refund|devol|payment"),
    (Topic.PRICES, r"tarifa|precio|cuota|subid|oferta|permanencia|price|tariff|deal|contract"),
    (
        Topic.COVERAGE,
        r"cobertura|5g|4g|señal|fibra|internet|router|signal|coverage|broadband|fibre",
    ),
    (
        Topic.CUSTOMER_SERVICE,
        r"atención|técnico|teléfono|chat|llam|tienda|engineer|helpline|on hold|service|shop|ring",
    ),
)
# Share of the conversation by hour of day (UTC, close to Spain and the UK), mean 1.
# fmt: off
_DIURNAL = (
    0.35, 0.25, 0.2, 0.2, 0.25, 0.4, 0.7, 1.0, 1.2, 1.3, 1.35, 1.3,
    1.25, 1.2, 1.15, 1.1, 1.1, 1.2, 1.3, 1.35, 1.3, 1.15, 0.9, 0.6,
)
# fmt: on
_DIURNAL_MEAN = sum(_DIURNAL) / len(_DIURNAL)
_DIURNAL_PEAK = max(_DIURNAL) / _DIURNAL_MEAN
_BACKGROUND_PLATFORMS = {"mastodon": 0.32, "bluesky": 0.30, "reddit": 0.20, "youtube": 0.18}
_SURGE_PLATFORMS = {"mastodon": 0.34, "bluesky": 0.32, "reddit": 0.20, "youtube": 0.14}
_BACKGROUND_KINDS = {
    Kind.CHATTER: 0.30,
    Kind.PRAISE: 0.16,
    Kind.QUESTION: 0.18,
    Kind.COMPLAINT: 0.32,
    Kind.TROLL: 0.04,
}
# Which reply templates answer a parent of each kind, and the kind the reply then has.
_REPLY_TO = {
    Kind.CHATTER: (
        ("chatter", Kind.CHATTER, 0.6),
        ("praise", Kind.PRAISE, 0.2),
        ("complaint", Kind.COMPLAINT, 0.2),
    ),
    Kind.PRAISE: (
        ("praise", Kind.PRAISE, 0.75),
        ("complaint", Kind.COMPLAINT, 0.15),
        ("troll", Kind.TROLL, 0.1),
    ),
    Kind.QUESTION: (("question", Kind.CHATTER, 0.8), ("chatter", Kind.CHATTER, 0.2)),
    Kind.COMPLAINT: (
        ("complaint", Kind.COMPLAINT, 0.5),
        ("chatter", Kind.CHATTER, 0.4),
        ("troll", Kind.TROLL, 0.1),
    ),
    Kind.TROLL: (("defend", Kind.PRAISE, 0.7), ("troll", Kind.TROLL, 0.3)),
}
_SUBREDDITS = {
    "es": ("spain", "askspain", "BrisaTelecom", "telecomunicaciones"),
    "en": ("unitedkingdom", "CasualUK", "UKPersonalFinance", "BrisaTelecom"),
}
_DEFENCES = {
    "es": (
        "Pues yo llevo años con {brand} y muy bien, tampoco exageres",
        "Con insultos no se arregla nada. {brand} suele responder si le escribes por privado",
        "Que haya un error con el cobro vale, pero llamar ladrones a la gente de {brand}… calma",
    ),
    "en": (
        "Been with {brand} for years and it's been fine, bit much",
        "Insults won't fix anything. {brand} usually replies if you DM them",
        "There's a billing bug, fine, but calling {brand} staff thieves? Calm down",
    ),
}


_SURGE_PEAK_PER_MINUTE = 22.0


def _surge_rate_per_minute(minutes: float) -> float:
    """The snowball: ~1/min at first, 20+/min after 15-20 min, a plateau, then a slow decay."""
    if minutes < 0:
        return 0.0
    if minutes < 18:
        return 0.8 * math.exp(minutes * math.log(_SURGE_PEAK_PER_MINUTE / 0.8) / 18)
    if minutes < 33:
        return _SURGE_PEAK_PER_MINUTE
    return _SURGE_PEAK_PER_MINUTE * math.exp(-(minutes - 33) / 14)


# When the decay has brought the rate back down to background levels.
_SURGE_END_MINUTES = 33 + 14 * math.log(_SURGE_PEAK_PER_MINUTE / 0.4)


@dataclass(eq=False)  # identity matters: drafts point at each other
class _Draft:
    platform: str
    at: datetime
    author: SimAuthor
    text: str
    language: str
    kind: str
    topic: str
    is_surge: bool = False
    parent: _Draft | None = None
    quote: _Draft | None = None
    title: str = ""
    community: str = ""
    url: str = ""
    likes: int = 0
    reposts: int = 0
    index: int = 0
    external_id: str = ""
    children: list[_Draft] = field(default_factory=list)

    @property
    def root(self) -> _Draft:
        draft = self
        while draft.parent is not None:
            draft = draft.parent
        return draft


class _Builder:
    def __init__(self, rng: random.Random, start: datetime, end: datetime) -> None:
        self.rng = rng
        self.start = start
        self.end = end
        self.drafts: list[_Draft] = []
        self.people = _People(rng, start)
        self.channel_id = "UC" + _random_chars(rng, _BASE64URL, 22)
        self.videos = [
            SimVideo(
                video_id=_random_chars(rng, _BASE64URL, 11),
                title=title,
                published_at=(start - timedelta(minutes=minutes_before)).replace(microsecond=0),
                language="en" if "UK" in title else "es",
            )
            for minutes_before, title in texts.YOUTUBE_VIDEOS
        ]

    # -- helpers --
    def _add(self, draft: _Draft) -> _Draft | None:
        if not self.start <= draft.at < self.end:
            return None
        draft.at = _platform_precision(draft.platform, draft.at)
        draft.text = _with_tag(draft.text, draft.platform)
        draft.index = len(self.drafts)
        if draft.parent is not None:
            draft.parent.children.append(draft)
        self.drafts.append(draft)
        return draft

    def _pick(self, weights: dict) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _fill(self, template: str, language: str, at: datetime, platform: str) -> str:
        return _Filler(self.rng, language, at, platform).fill(template)

    def _engagement(self, author: SimAuthor, boost: float = 1.0) -> tuple[int, int]:
        base = math.sqrt(max(author.followers, 1))
        likes = int(base * self.rng.uniform(0.05, 0.8) * boost)
        return likes, int(likes * self.rng.uniform(0.05, 0.35))

    def _recent(
        self, platform: str, at: datetime, within: timedelta, *, language: str | None = None
    ) -> list[_Draft]:
        return [
            draft
            for draft in self.drafts[-400:]
            if draft.platform == platform
            and at - within <= draft.at < at
            and not draft.is_surge
            and (language is None or draft.language == language)
        ]

    # -- background --
    def background(self, per_hour: float) -> None:
        if per_hour <= 0:
            return
        for at in self._arrivals(per_hour * 0.96):
            self._background_post(at)
        for at in self._arrivals(per_hour * 0.04):
            self._article(at, self._pick({"es": 0.6, "en": 0.4}))

    def _arrivals(self, per_hour: float) -> Iterable[datetime]:
        """Poisson arrivals whose rate follows the time of day (thinning)."""
        peak_per_second = per_hour * _DIURNAL_PEAK / 3600
        at = self.start
        while True:
            at += timedelta(seconds=self.rng.expovariate(peak_per_second))
            if at >= self.end:
                return
            if self.rng.random() * _DIURNAL_PEAK <= _DIURNAL[at.hour] / _DIURNAL_MEAN:
                yield at

    def _background_post(self, at: datetime) -> None:
        rng = self.rng
        platform = self._pick(_BACKGROUND_PLATFORMS)
        language = self._pick({"es": 0.6, "en": 0.4})
        parent: _Draft | None = None
        if platform in ("mastodon", "bluesky") and rng.random() < 0.25:
            parent = self._choose_recent(platform, at, timedelta(hours=3), language)
        elif platform == "reddit" and rng.random() < 0.7:
            threads = [
                d for d in self._recent(platform, at, timedelta(hours=12)) if d.parent is None
            ]
            if threads:
                thread = rng.choice(threads)
                comments = [d for d in self.drafts if d.root is thread and d is not thread]
                parent = rng.choice(comments) if comments and rng.random() < 0.35 else thread
        elif platform == "youtube" and rng.random() < 0.25:
            tops = [d for d in self._recent(platform, at, timedelta(hours=24)) if d.parent is None]
            parent = rng.choice(tops) if tops else None
        if parent is not None:
            self._background_reply(at, parent)
            return
        kind = self._pick(_BACKGROUND_KINDS)
        author = self.people.pick(platform, language, troll=kind == Kind.TROLL)
        text = self._fill(rng.choice(texts.POSTS[(language, kind)]), language, at, platform)
        text = _stylise(rng, text, language, kind, platform, crisis=False)
        likes, reposts = self._engagement(author)
        draft = _Draft(
            platform,
            at,
            author,
            text,
            language,
            kind,
            _topic_of(text),
            likes=likes,
            reposts=reposts,
        )
        if platform == "reddit":
            self._as_submission(draft)
        elif platform == "youtube":
            draft.community = self._video_for(at, language).video_id
        self._add(draft)

    def _choose_recent(
        self, platform: str, at: datetime, within: timedelta, language: str
    ) -> _Draft | None:
        candidates = self._recent(platform, at, within, language=language)
        if not candidates:
            return None
        # People answer recent posts more often than old ones.
        weights = [1.0 / (1.0 + (at - c.at).total_seconds() / 1800) for c in candidates]
        return self.rng.choices(candidates, weights=weights)[0]

    def _background_reply(self, at: datetime, parent: _Draft) -> None:
        rng = self.rng
        language = parent.language
        options = _REPLY_TO.get(Kind(parent.kind), _REPLY_TO[Kind.CHATTER])
        key, kind, _ = rng.choices(options, weights=[weight for *_, weight in options])[0]
        templates = _DEFENCES[language] if key == "defend" else texts.REPLIES[(language, key)]
        text = self._fill(rng.choice(templates), language, at, parent.platform)
        text = _stylise(rng, text, language, kind, parent.platform, crisis=False)
        author = self.people.pick(parent.platform, language, troll=kind == Kind.TROLL)
        likes, reposts = self._engagement(author, boost=0.5)
        draft = _Draft(
            parent.platform,
            at,
            author,
            _address(parent, text),
            language,
            kind,
            _topic_of(text) if kind != Kind.CHATTER else parent.topic,
            parent=parent,
            community=parent.community,
            likes=likes,
            reposts=reposts,
        )
        self._add(draft)

    def _as_submission(self, draft: _Draft, subreddit: str = "") -> None:
        """Give a Reddit post its title and subreddit (a t3 submission)."""
        key = (draft.language, draft.kind)
        titles = texts.REDDIT_TITLES.get(key) or texts.REDDIT_TITLES[(draft.language, "chatter")]
        draft.title = self._fill(self.rng.choice(titles), draft.language, draft.at, "reddit")
        draft.community = subreddit or self.rng.choice(_SUBREDDITS[draft.language])

    def _video_for(self, at: datetime, language: str) -> SimVideo:
        published = [video for video in self.videos if video.published_at <= at]
        # Newer videos attract most comments; a matching language a little more.
        weights = [
            (2.0**index) * (1.5 if video.language == language else 1.0)
            for index, video in enumerate(published)
        ]
        return self.rng.choices(published, weights=weights)[0]

    def _article(
        self,
        at: datetime,
        language: str,
        kind: str | None = None,
        title: str = "",
        summary: str = "",
        surge: bool = False,
    ) -> None:
        rng = self.rng
        if not title:
            kind = self._pick({Kind.CHATTER: 0.5, Kind.PRAISE: 0.15, Kind.COMPLAINT: 0.35})
            title, summary = rng.choice(texts.ARTICLES[(language, kind)])
        filler = _Filler(rng, language, at, "feed")
        title, summary = filler.fill(title), filler.fill(summary)
        city = filler.values.get("city") or rng.choice(texts.CITIES[language])
        domain, site = rng.choice(texts.NEWS_SITES[language])
        domain = domain.format(city_slug=slugify(city, ""))
        site = site.format(city=city)
        section = rng.choice(
            ("economia", "tecnologia", "consumo")
            if language == "es"
            else ("business", "technology", "money")
        )
        url = f"https://www.{domain}/{section}/{slugify(title)}-{rng.randrange(10**6, 10**7)}"
        author = SimAuthor(handle=domain, display_name=site, followers=0)
        draft = _Draft(
            "feed",
            at,
            author,
            summary,
            language,
            kind or Kind.CHATTER,
            Topic.BILLING if surge else _topic_of(title + " " + summary),
            is_surge=surge,
            title=title,
            url=url,
            community=GOOGLE_ALERTS if rng.random() < 0.6 else TALKWALKER,
        )
        self._add(draft)

    # -- the crisis --
    def crisis(self, began: datetime) -> None:
        rng = self.rng
        origin_author = self.people.new("mastodon", "es", followers=rng.randint(250, 900))
        text = self._fill(texts.CRISIS_ORIGIN["es"], "es", began, "mastodon")
        hubs: dict[str, list[_Draft]] = defaultdict(list)  # posts that attract replies/quotes
        origin = self._add(
            _Draft(
                "mastodon",
                began,
                origin_author,
                _with_tag(text, "mastodon"),
                "es",
                Kind.CRISIS_COMPLAINT,
                Topic.BILLING,
                is_surge=True,
                likes=rng.randint(40, 90),
                reposts=rng.randint(20, 60),
            )
        )
        if origin is not None:
            hubs["mastodon"].append(origin)
        self._scripted_crisis_posts(began, hubs)
        # Thinning: candidates at the peak rate, each kept with probability rate(t) / peak.
        at = began
        end = min(self.end, began + timedelta(minutes=_SURGE_END_MINUTES))
        while True:
            at += timedelta(seconds=rng.expovariate(_SURGE_PEAK_PER_MINUTE / 60))
            if at >= end:
                break
            minutes = (at - began).total_seconds() / 60
            if rng.random() * _SURGE_PEAK_PER_MINUTE <= _surge_rate_per_minute(minutes):
                self._surge_post(at, minutes, hubs)

    def _scripted_crisis_posts(self, began: datetime, hubs: dict[str, list[_Draft]]) -> None:
        rng = self.rng

        def at(minutes: float) -> datetime:
            return began + timedelta(minutes=minutes, seconds=rng.randint(0, 50))

        for minutes, language, subreddit, kind in (
            (4, "es", "spain", Kind.CRISIS_COMPLAINT),
            (13, "en", "unitedkingdom", Kind.CRISIS_COMPLAINT),
            (28, "en", "LegalAdviceUK", Kind.AUTHORITY),
            (31, "es", "BrisaTelecom", Kind.AUTHORITY),
        ):
            moment = at(minutes)
            author = self.people.new("reddit", language)
            text = self._fill(rng.choice(texts.POSTS[(language, kind)]), language, moment, "reddit")
            draft = _Draft(
                "reddit",
                moment,
                author,
                text,
                language,
                kind,
                Topic.BILLING,
                is_surge=True,
                likes=rng.randint(80, 900),
            )
            self._as_submission(draft, subreddit)
            if self._add(draft):
                hubs[f"reddit:{language}"].append(draft)
        influencers = (
            (11, "mastodon", "es", "martatech", "Marta Ruiz · Tecnología", 248_000),
            (19, "bluesky", "en", "techwithtom.co.uk", "Tom Hughes | Tech", 186_000),
        )
        for minutes, platform, language, handle, name, followers in influencers:
            moment = at(minutes)
            author = self.people.special(platform, handle, name, followers, verified=True)
            text = self._fill(texts.INFLUENCER_POSTS[language], language, moment, platform)
            draft = _Draft(
                platform,
                moment,
                author,
                _with_tag(text, platform),
                language,
                Kind.INFLUENCER,
                Topic.BILLING,
                is_surge=True,
                likes=rng.randint(2500, 6000),
                reposts=rng.randint(600, 1800),
            )
            if self._add(draft):
                hubs[platform].append(draft)
        for minutes, language, kind, title, summary in texts.CRISIS_ARTICLES:
            self._article(at(minutes), language, kind, title, summary, surge=True)

    def _surge_post(self, at: datetime, minutes: float, hubs: dict[str, list[_Draft]]) -> None:
        rng = self.rng
        platform = self._pick(_SURGE_PLATFORMS)
        english_share = min(0.4, max(0.0, (minutes - 6) / 25))
        language = "en" if rng.random() < english_share else "es"
        kind = self._surge_kind(minutes)
        author = self._surge_author(platform, language, kind)
        parent: _Draft | None = None
        quote: _Draft | None = None
        # Only what already exists can be answered (scripted hubs are added ahead of time).
        if platform in ("mastodon", "bluesky"):
            same_language = [
                hub for hub in hubs[platform] if hub.language == language and hub.at < at
            ]
            if same_language and rng.random() < 0.45:
                recent = same_language[-30:]
                specials = [hub for hub in same_language if hub.kind == Kind.INFLUENCER]
                specials += same_language[:1]  # the first post on the platform: the origin
                parent = rng.choice(specials if rng.random() < 0.5 else recent)
            elif platform == "bluesky" and same_language and rng.random() < 0.3:
                quote = rng.choice(
                    same_language[:1] + [h for h in same_language if h.kind == Kind.INFLUENCER]
                )
        elif platform == "reddit":
            threads = [hub for hub in hubs[f"reddit:{language}"] if hub.at < at]
            if threads and rng.random() < 0.92:
                thread = rng.choice(threads[-2:])
                comments = [child for child in thread.children if child.at < at]
                parent = rng.choice(comments) if comments and rng.random() < 0.4 else thread
        elif platform == "youtube":
            tops = [hub for hub in hubs["youtube"] if hub.parent is None]
            if tops and rng.random() < 0.25:
                parent = rng.choice(tops[-20:])

        text = self._surge_text(kind, language, at, platform, reply=parent is not None)
        if parent is not None:
            text = _address(parent, text)
        elif platform == "mastodon":
            text = _with_tag(text, platform)
        likes, reposts = self._engagement(author, boost=2.0)
        draft = _Draft(
            platform,
            at,
            author,
            text,
            language,
            kind,
            Topic.BILLING,
            is_surge=True,
            parent=parent,
            quote=quote,
            likes=likes,
            reposts=reposts,
        )
        if platform == "reddit" and parent is None:
            self._as_submission(draft)
        elif platform == "youtube":
            draft.community = parent.community if parent else self.videos[-1].video_id
        if parent is not None and platform == "reddit":
            draft.community = parent.community
        if self._add(draft):
            if platform == "reddit" and parent is None:
                hubs[f"reddit:{language}"].append(draft)
            elif parent is None or platform == "youtube":
                hubs[platform].append(draft)

    def _surge_kind(self, minutes: float) -> str:
        weights = {Kind.QUESTION: 0.07, Kind.CHATTER: 0.07}
        if minutes >= 7:
            weights[Kind.TROLL] = 0.12
        if minutes >= 4:
            weights[Kind.AUTHORITY] = 0.05 if minutes < 10 else 0.13
        weights[Kind.CRISIS_COMPLAINT] = 1.0 - sum(weights.values())
        return self._pick(weights)

    def _surge_author(self, platform: str, language: str, kind: str) -> SimAuthor:
        if kind == Kind.TROLL:
            return self.people.pick(platform, language, troll=True, reuse=0.5)
        if self.rng.random() < 0.03:  # a mid-sized account now and then
            return self.people.new(platform, language, followers=self.rng.randint(5000, 40000))
        return self.people.pick(platform, language, reuse=0.15)

    def _surge_text(
        self, kind: str, language: str, at: datetime, platform: str, *, reply: bool
    ) -> str:
        rng = self.rng
        if kind in (Kind.QUESTION, Kind.CHATTER):
            templates = texts.CRISIS_POSTS[(language, kind)]
        elif reply and kind in (Kind.CRISIS_COMPLAINT, Kind.TROLL) and rng.random() < 0.6:
            templates = texts.REPLIES[(language, kind)]
        else:
            templates = texts.POSTS[(language, kind)]
        text = self._fill(rng.choice(templates), language, at, platform)
        return _stylise(rng, text, language, kind, platform, crisis=True)

    # -- identifiers --
    def build(self) -> list[SimPost]:
        drafts = sorted(self.drafts, key=lambda draft: (draft.at, draft.index))
        last_mastodon = 0
        reddit_next = {
            "t3": 2_300_000_000 + self.rng.randrange(10**6),
            "t1": 46_000_000_000 + self.rng.randrange(10**7),
        }
        for draft in drafts:
            if draft.platform == "mastodon":
                last_mastodon = max(last_mastodon + 1, mastodon_snowflake(draft.at, self.rng))
                draft.external_id = str(last_mastodon)
            elif draft.platform == "bluesky":
                tid = bluesky_tid(draft.at, self.rng.randrange(1024))
                draft.external_id = f"at://{draft.author.account_id}/app.bsky.feed.post/{tid}"
            elif draft.platform == "reddit":
                prefix = "t1" if draft.parent is not None else "t3"
                reddit_next[prefix] += self.rng.randint(30, 400)  # the rest of Reddit posts too
                draft.external_id = f"{prefix}_{to_base36(reddit_next[prefix])}"
            elif draft.platform == "youtube":
                if draft.parent is None:
                    draft.external_id = (
                        self.rng.choice(("Ugw", "Ugx", "Ugy", "Ugz"))
                        + _random_chars(self.rng, _BASE64URL, 20)
                        + "4AaABAg"
                    )
                else:
                    suffix = _random_chars(self.rng, _BASE64URL, 22)
                    draft.external_id = f"{draft.parent.external_id}.{suffix}"
            elif draft.community == GOOGLE_ALERTS:
                number = self.rng.randrange(10**18, 10**20)
                draft.external_id = f"tag:google.com,2013:googlealerts/feed:{number}"
            else:
                draft.external_id = draft.url
        return [
            SimPost(
                platform=draft.platform,
                external_id=draft.external_id,
                published_at=draft.at,
                author=draft.author,
                text=draft.text,
                language=draft.language,
                kind=str(draft.kind),
                topic=str(draft.topic),
                is_surge=draft.is_surge,
                reply_to=draft.parent.external_id if draft.parent else "",
                thread_id=draft.root.external_id,
                title=draft.title,
                community=draft.community,
                url=draft.url,
                quote_of=draft.quote.external_id if draft.quote else "",
                likes=draft.likes,
                reposts=draft.reposts,
            )
            for draft in drafts
        ]


def _platform_precision(platform: str, moment: datetime) -> datetime:
    """Round to what the platform's API shows, so the wire and the world agree exactly."""
    if platform in ("mastodon", "bluesky"):
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return moment.replace(microsecond=0)


def _topic_of(text: str) -> str:
    lowered = text.lower()
    for topic, pattern in _TOPIC_PATTERNS:
        if re.search(pattern, lowered):
            return topic
    return Topic.GENERAL


def _with_tag(text: str, platform: str) -> str:
    """On Mastodon the stream is the #brisa tag timeline, so every post there carries it."""
    if platform == "mastodon" and not re.search(r"#brisa\b", text, re.IGNORECASE):
        return f"{text} #brisa"
    return text


def _address(parent: _Draft, text: str) -> str:
    """Replies on Mastodon and Bluesky start by mentioning the person answered."""
    if parent.platform == "mastodon":
        return _with_tag(f"@{parent.author.handle} {text}", "mastodon")
    if parent.platform == "bluesky":
        return f"@{parent.author.handle} {text}"
    return text


_ANGRY_KINDS = (Kind.COMPLAINT, Kind.CRISIS_COMPLAINT, Kind.TROLL, Kind.AUTHORITY)


def _stylise(
    rng: random.Random, text: str, language: str, kind: str, platform: str, *, crisis: bool
) -> str:
    """The small habits of real posts: interjections, stretched words, shouting, hashtags."""
    angry = kind in _ANGRY_KINDS
    if angry and rng.random() < 0.12:
        interjection = rng.choice(texts.INTERJECTIONS[language])
        if interjection.endswith((",", ":")):
            text = f"{text[0].lower()}{text[1:]}"
        text = f"{interjection} {text}"
    if (angry or kind == Kind.PRAISE) and rng.random() < 0.25:
        text = _elongate(rng, text, language)
    if angry and rng.random() < 0.05:
        text = text.upper()
    if angry and rng.random() < 0.2:
        text = re.sub(r"[.!]?\s*$", rng.choice(("!!", "!!!", "!!!!")), text, count=1)
    # Hashtags belong to Mastodon and Bluesky; YouTube comments rarely carry them, Reddit never.
    share = {"mastodon": 1.0, "bluesky": 1.0, "youtube": 0.3}.get(platform, 0.0)
    if rng.random() < share * (0.4 if crisis else 0.22):
        pool = texts.CRISIS_HASHTAGS[language] if crisis else texts.HASHTAGS[language]
        tags = [tag for tag in rng.sample(pool, k=rng.choice((1, 1, 2))) if tag not in text]
        if tags:
            text = f"{text} {' '.join(tags)}"
    return re.sub(r"\s{2,}", " ", text).strip()


def _elongate(rng: random.Random, text: str, language: str) -> str:
    words = [
        word
        for word in texts.ELONGATABLE[language]
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
    ]
    if not words:
        return text
    word = rng.choice(words)
    match = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
    if match is None:
        return text
    found = match.group(0)
    vowels = [index for index, char in enumerate(found) if char.lower() in "aeiouáéíóú"]
    if not vowels:
        return text
    last = vowels[-1]
    stretched = found[: last + 1] + found[last] * rng.randint(3, 6) + found[last + 1 :]
    return text[: match.start()] + stretched + text[match.end() :]


class _Filler:
    """Fills {slots}; a slot used twice in one template gets the same value both times."""

    def __init__(self, rng: random.Random, language: str, at: datetime, platform: str) -> None:
        self.rng = rng
        self.language = language
        self.at = at
        self.platform = platform
        self.values: dict[str, str] = {}

    def fill(self, template: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda match: self.value(match.group(1)), template)

    def value(self, slot: str) -> str:
        if slot not in self.values:
            self.values[slot] = self._new_value(slot)
        return self.values[slot]

    def _new_value(self, slot: str) -> str:
        rng, language = self.rng, self.language
        if slot == "brand":
            if self.platform in ("mastodon", "bluesky"):
                return rng.choice(texts.BRAND_FORMS[language])
            # Nobody @-mentions on Reddit, YouTube comments or in the press.
            return "Brisa" if rng.random() < 0.9 else "brisa"
        if slot == "city":
            return rng.choice(texts.CITIES[language])
        if slot == "product":
            return rng.choice(texts.PRODUCTS[language])
        if slot == "amount":
            amount = rng.choice(texts.AMOUNTS)
            return f"{amount:.2f} €".replace(".", ",") if language == "es" else f"£{amount:.2f}"
        if slot == "n":
            return str(rng.randint(2, 15))
        if slot == "hours":
            return str(rng.randint(1, 6))
        if slot == "month":
            return texts.MONTHS[language][self.at.month - 1]
        if slot == "channel":
            return rng.choice(texts.CHANNELS[language])
        if slot in texts.EMOJI:
            return rng.choice(texts.EMOJI[slot])
        raise KeyError(f"unknown template slot {slot!r}")


class _People:
    """Accounts per platform: mostly new voices, some regulars who post again."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.start = start
        self.pool: dict[tuple[str, str, bool], list[SimAuthor]] = defaultdict(list)
        self.taken: set[tuple[str, str]] = set()

    def pick(
        self, platform: str, language: str, *, troll: bool = False, reuse: float = 0.35
    ) -> SimAuthor:
        pool = self.pool[(platform, language, troll)]
        if pool and self.rng.random() < reuse:
            return self.rng.choice(pool)
        return self.new(platform, language, troll=troll)

    def new(
        self, platform: str, language: str, *, troll: bool = False, followers: int | None = None
    ) -> SimAuthor:
        rng = self.rng
        first = rng.choice(texts.FIRST_NAMES[language])
        last = rng.choice(texts.SURNAMES[language])
        if troll:
            display = rng.choice(("Anónimo", "Sin filtro", "La verdad", "No bot", "Truth", "Anon"))
            followers = followers if followers is not None else rng.randint(0, 60)
            stem = f"{rng.choice(texts.TROLL_HANDLES)}{rng.randint(1, 9999)}"
            age_days = rng.randint(2, 90)  # trolls' accounts are young
        else:
            display = f"{first} {last}" if rng.random() < 0.7 else first
            if rng.random() < 0.15:
                display = f"{display} {rng.choice(('🌻', '🚴', '☕', '🎧', '📚', '🌊', '⚽'))}"
            if followers is None:
                followers = int(rng.lognormvariate(5.0, 1.3))
            stem = self._stem(first, last, language)
            age_days = rng.randint(60, 365 * 8)
        handle = self._unique(platform, self._handle(platform, stem))
        author = SimAuthor(
            handle=handle,
            display_name=display,
            followers=followers,
            account_id=self._account_id(platform, age_days),
            created_at=(self.start - timedelta(days=age_days)).replace(
                hour=0, minute=0, second=0, microsecond=0
            ),
        )
        self.pool[(platform, language, troll)].append(author)
        return author

    def special(
        self, platform: str, handle: str, name: str, followers: int, *, verified: bool
    ) -> SimAuthor:
        self.taken.add((platform, handle))
        age_days = self.rng.randint(365 * 3, 365 * 9)
        return SimAuthor(
            handle=handle,
            display_name=name,
            followers=followers,
            verified=verified,
            account_id=self._account_id(platform, age_days),
            created_at=(self.start - timedelta(days=age_days)).replace(
                hour=0, minute=0, second=0, microsecond=0
            ),
        )

    def _stem(self, first: str, last: str, language: str) -> str:
        rng = self.rng
        first_ascii, last_ascii = slugify(first, ""), slugify(last, "")
        nickname = slugify(rng.choice(texts.NICKNAME_WORDS[language]), "")
        pattern = rng.randrange(6)
        if pattern == 0:
            return f"{first_ascii}_{last_ascii}"
        if pattern == 1:
            return f"{first_ascii}{last_ascii[0]}{rng.randint(70, 99)}"
        if pattern == 2:
            return f"{nickname}_{first_ascii}"
        if pattern == 3:
            return f"{first_ascii}{last_ascii}"
        if pattern == 4:
            return f"{first_ascii[:3]}{last_ascii}{rng.randint(1, 999)}"
        return f"{first_ascii}_{nickname}"

    def _handle(self, platform: str, stem: str) -> str:
        rng = self.rng
        if platform == "bluesky":
            base = stem.replace("_", "")
            if rng.random() < 0.1:
                return f"{base}.{rng.choice(('es', 'uk', 'dev', 'net'))}"
            return f"{base}.bsky.social"
        if platform == "reddit":
            if rng.random() < 0.3:  # Reddit's suggested names: Word-Word-1234
                words = ("Spare", "Quiet", "Brave", "Lazy", "Witty", "Tidy", "Sunny", "Odd")
                nouns = ("Bicycle", "Otter", "Kettle", "Badger", "Lemon", "Pigeon", "Cactus")
                return f"{rng.choice(words)}-{rng.choice(nouns)}-{rng.randint(1000, 9999)}"
            return "_".join(part.capitalize() for part in stem.split("_"))
        if platform == "youtube":
            return f"@{stem.replace('_', '')}{rng.randint(1, 9999)}"
        return stem

    def _unique(self, platform: str, handle: str) -> str:
        candidate, number = handle, 1
        while (platform, candidate) in self.taken:
            number += 1
            if platform == "bluesky":
                head, _, tail = handle.partition(".")
                candidate = f"{head}{number}.{tail}"
            else:
                candidate = f"{handle}{number}"
        self.taken.add((platform, candidate))
        return candidate

    def _account_id(self, platform: str, age_days: int) -> str:
        rng = self.rng
        if platform == "mastodon":
            return str(mastodon_snowflake(self.start - timedelta(days=age_days), rng))
        if platform == "bluesky":
            return "did:plc:" + _random_chars(rng, _BASE32_LOWER, 24)
        if platform == "reddit":
            return "t2_" + to_base36(rng.randrange(36**7, 36**9))
        if platform == "youtube":
            return "UC" + _random_chars(rng, _BASE64URL, 22)
        return ""
