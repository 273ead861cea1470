"""The protocol Calma ships with (version 1): every section a supervisor can edit.

A protocol version's `config` is one JSON document with exactly these sections; validation
lives in `protocols.validation`, the compiled form the scorer uses in
`protocols.scoring.engine.compile_protocol`.
"""

from copy import deepcopy

from protocols.scoring.defaults import DEFAULT_LEXICONS, DEFAULT_WEIGHTS
from protocols.scoring.types import Severity, TriageClass

# Variables a reply template may use, filled when a manager drafts a reply.
TEMPLATE_VARIABLES = ("author", "brand", "agent", "case", "channel")

KEYWORD_GROUPS = [
    {
        "key": "authority",
        "label": "Consumer protection, ombudsman, regulators",
        "patterns": [
            "OCU",
            "FACUA",
            "oficina de consumo",
            "oficina municipal de información al consumidor",
            "hoja de reclamaciones",
            "defensor del pueblo",
            "defensor del cliente",
            "CNMC",
            "Ofcom",
            "trading standards",
            "ombudsman",
            "citizens advice",
            "consumer protection",
            "regulator",
        ],
        "regex": False,
        "boost": 25,
        "escalation_contact": "legal@brisa.example",
    },
    {
        "key": "legal_threat",
        "label": "Lawyers, courts, legal threats",
        "patterns": [
            "abogad[oa]s?",
            "demanda(r|ré|remos)?",
            "denuncia(r|ré|remos)?",
            "juzgado",
            "tribunal(es)?",
            "lawyers?",
            "solicitors?",
            "su(e|ing) (you|them|brisa)",
            "small claims",
            "legal action",
            "court",
        ],
        "regex": True,
        "boost": 25,
        "escalation_contact": "legal@brisa.example",
    },
    {
        "key": "health_safety",
        "label": "Health and safety",
        "patterns": [
            "intoxicaci[oó]n",
            "herid[oa]s?",
            "peligro(so)?",
            "incendio",
            "quemadura",
            "hospital",
            "injur(y|ies|ed)",
            "danger(ous)?",
            "fire",
            "burn(ed|t)?",
            "poison(ing|ed)?",
        ],
        "regex": True,
        "boost": 30,
        "escalation_contact": "safety@brisa.example",
    },
    {
        "key": "data_breach",
        "label": "Data breach and privacy",
        "patterns": [
            "filtraci[oó]n de datos",
            "mis datos",
            "datos personales",
            "hackead[oa]s?",
            "RGPD",
            "data breach",
            "my data",
            "personal data",
            "hacked",
            "GDPR",
            "leak(ed)?",
        ],
        "regex": True,
        "boost": 20,
        "escalation_contact": "dpo@brisa.example",
    },
    {
        # A topic to watch, not a boost: a billing error is the commonest snowball for a
        # subscription business (double charges, duplicated direct debits). Its complaints
        # score as complaints; the group lets the surge detector and the crisis rule count
        # them together on one topic.
        "key": "billing",
        "label": "Double charges and billing errors",
        "patterns": [
            "(cobr|carg|factur|recib|pasad)[a-z]*[^.!?]{0,40} (dos veces|duplicad[oa]s?)",
            "(cobro|cargo|factura|recibo)s? duplicad[oa]s?",
            "doble (cargo|cobro|factura|recibo|pago)",
            "dos cargos",
            "duplicad[oa] (el|la|los|las) (cobro|cargo|factura|recibo)s?",
            "double[- ]?(charg|bill|payment|debit)[a-z]*",
            "(charg|bill|took|taken|debit)[a-z]*[^.!?]{0,40} twice",
            "[0-9] ?[€£$]? ?x ?2",
            "cobroduplicado|facturaduplicada|doublecharged|billingerror",
            "billing (error|bug|mistake|mess)",
            "overcharg[a-z]*",
        ],
        "regex": True,
        "boost": 0,
        "escalation_contact": "",
    },
]

REACH_TIERS = [
    {"min_followers": 0, "boost": 0},
    {"min_followers": 1_000, "boost": 5},
    {"min_followers": 10_000, "boost": 10},
    {"min_followers": 100_000, "boost": 20},
]

AUTHOR_FLAGS = {"influencer": 10, "ambassador": 0, "known_troll": -5, "customer": 5}


def _policy(sla_minutes: int, needs_approval: bool, contacts: list[str]) -> dict:
    return {
        "sla_minutes": sla_minutes,
        "needs_approval": needs_approval,
        "escalation_contacts": contacts,
        "actions": deepcopy(ACTIONS),
    }


ACTIONS = {
    TriageClass.COMPANY_FAULT: {
        "action": "Own it: apologise quickly, give the most satisfactory legal solution, "
        "then take it private.",
        "templates": {
            "es": [
                "Hola {author}, tienes toda la razón y lo sentimos mucho. Ya estamos con ello: "
                "te escribimos por privado para solucionarlo hoy. {agent}",
            ],
            "en": [
                "Hi {author}, you're right and we're sorry. We're on it and will message you "
                "privately to sort it out today. {agent}",
            ],
        },
    },
    TriageClass.NO_REASON: {
        "action": "Reason calmly with facts; offer the pre-approved intermediate solution.",
        "templates": {
            "es": [
                "Hola {author}, entendemos tu enfado. Te explicamos lo ocurrido por privado y "
                "vemos juntos qué podemos hacer. {agent}",
            ],
            "en": [
                "Hi {author}, we understand the frustration. Let us explain what happened by "
                "private message and see what we can do. {agent}",
            ],
        },
    },
    TriageClass.TROLL: {
        "action": "Do not feed it. Do not reply; hide only with a written justification.",
        "templates": {"es": [], "en": []},
    },
    TriageClass.QUESTION: {
        "action": "Answer the question plainly and link to the help page.",
        "templates": {
            "es": ["Hola {author}, ¡buena pregunta! Te lo contamos: … {agent}"],
            "en": ["Hi {author}, good question! Here's how it works: … {agent}"],
        },
    },
    TriageClass.PRAISE: {
        "action": "Thank them warmly; consider them as a possible ambassador.",
        "templates": {
            "es": ["¡Gracias, {author}! Nos alegra mucho leerte. {agent}"],
            "en": ["Thank you, {author}! That made our day. {agent}"],
        },
    },
    TriageClass.NEUTRAL: {
        "action": "No reply needed; keep monitoring.",
        "templates": {"es": [], "en": []},
    },
}

# What the incident stage does with a scored mention (crisis.incidents.services).
INCIDENTS = {
    # A mention from the same author on the same topic within this window joins their open
    # incident instead of opening another.
    "attach_window_minutes": 240,
    # A resolved incident reopens when its author writes again on its topic within this window.
    "reopen_window_minutes": 4320,
    "open_severities": [Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL],
    "open_classes": [
        TriageClass.COMPANY_FAULT,
        TriageClass.NO_REASON,
        TriageClass.TROLL,
        TriageClass.QUESTION,
    ],
    # A low mention opens an incident only for these classes (praise and neutral never do).
    "open_low_classes": [TriageClass.COMPANY_FAULT, TriageClass.QUESTION],
}

# Who gets an incident (crisis.incidents.routing).
ROUTING = {
    "max_open_per_manager": 10,
    "alert_supervisors_severities": [Severity.CRITICAL],
    "alert_groups": ["authority", "legal_threat", "health_safety", "data_breach"],
    "handback_on_shift_end": True,
    "oncall_outside_shifts_severities": [Severity.CRITICAL],
}

# What the SLA clock does (crisis.incidents.sla).
SLA = {"warn_at_fraction": 0.8, "handback_on_breach": True}

# What happens to a reply between the draft and the platform (crisis.replies).
REPLIES = {
    # The brand's name as replies sign it ({brand} in templates).
    "brand": "Brisa",
    # Classes whose replies always need a supervisor's approval, whatever the severity (a
    # severity's own policy says `needs_approval` for the rest).
    "approval_classes": [TriageClass.COMPANY_FAULT],
    # Incidents matching these keyword groups also need a legal reviewer's approval.
    "legal_groups": ["authority", "legal_threat"],
    # A draft waiting longer than this for approval escalates to every supervisor and to the
    # severity's escalation contacts.
    "approval_escalate_minutes": 30,
    # Corporate boilerplate the tone check warns about (practice 16: be human).
    "boilerplate": {
        "es": [
            "lamentamos las molestias ocasionadas",
            "disculpe las molestias",
            "su opinión es muy importante para nosotros",
            "estamos trabajando para mejorar",
            "nos tomamos muy en serio",
            "según nuestra política",
            "póngase en contacto con nuestro servicio de atención al cliente",
        ],
        "en": [
            "we apologise for any inconvenience",
            "we apologize for any inconvenience",
            "your feedback is important to us",
            "we take this very seriously",
            "as per our policy",
            "please contact our customer service",
            "we are committed to excellence",
        ],
    },
    # The short public reply of "take it private" (practice 4).
    "acknowledgement_templates": {
        "es": [
            "Hola {author}, lo sentimos. Te escribimos por privado para ayudarte con el caso "
            "{case}. {agent}",
        ],
        "en": [
            "Hi {author}, we're sorry. We'll message you privately to help with case {case}. "
            "{agent}",
        ],
    },
    # When the private follow-up of a case taken private is due, by default.
    "follow_up_due_hours": 24,
    # Hiding a mention on the platform needs a supervisor's approval (deleting always does).
    "hide_needs_approval": False,
}

# How a declared crisis is run (crisis.rooms).
CRISIS = {
    # Levels a crisis is declared at (practice 12): 1 watch, 2 serious, 3 critical.
    "levels": [
        {"level": 1, "label": "Watch"},
        {"level": 2, "label": "Serious"},
        {"level": 3, "label": "Critical"},
    ],
    # While a crisis is active the statement is updated at least this often.
    "update_cadence_minutes": 60,
    # The statement also needs the cabinet's legal member's approval at these levels.
    "legal_approval_levels": [3],
    # The publication checklist: every channel the statement goes out on (practice 13: share
    # it once, in several ways). `limit`: longest text the channel takes (null: no limit);
    # `platform`: where Calma can post it through a publishing account.
    "channels": [
        {"key": "blog", "label": "Blog", "limit": None, "platform": ""},
        {"key": "video", "label": "Video", "limit": None, "platform": ""},
        {"key": "mastodon", "label": "Mastodon", "limit": 500, "platform": "mastodon"},
        {"key": "bluesky", "label": "Bluesky", "limit": 300, "platform": "bluesky"},
        {"key": "reddit", "label": "Reddit", "limit": 10000, "platform": "reddit"},
        {"key": "youtube", "label": "YouTube", "limit": 10000, "platform": ""},
    ],
}

DEFAULT_CONFIG = {
    "weights": DEFAULT_WEIGHTS,
    "lexicons": DEFAULT_LEXICONS,
    "keyword_groups": KEYWORD_GROUPS,
    "reach_tiers": REACH_TIERS,
    "author_flags": AUTHOR_FLAGS,
    "repeat_complainant": {"min_previous": 2, "boost": 8},
    "velocity": {"spike_factor": 3.0, "boost": 15, "sensitivity": "normal"},
    "severity_thresholds": {Severity.MEDIUM: 30, Severity.HIGH: 55, Severity.CRITICAL: 80},
    "crisis_threshold": {"incidents": 5, "window_minutes": 30, "spike_factor": 4.0},
    "policies": {
        Severity.LOW: _policy(1440, False, []),
        Severity.MEDIUM: _policy(240, False, []),
        Severity.HIGH: _policy(60, True, ["pr-lead@brisa.example"]),
        Severity.CRITICAL: _policy(15, True, ["pr-lead@brisa.example", "legal@brisa.example"]),
    },
    "incidents": INCIDENTS,
    "routing": ROUTING,
    "sla": SLA,
    "replies": REPLIES,
    "crisis": CRISIS,
}


def default_config() -> dict:
    """A fresh copy of the shipped protocol (callers may mutate it)."""
    return deepcopy(DEFAULT_CONFIG)
