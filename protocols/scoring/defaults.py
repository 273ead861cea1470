"""Default signal weights and Spanish/English lexicons of the shipped protocol.

(Placeholder structure; the scoring engine's author fills it.)
"""

DEFAULT_WEIGHTS: dict[str, float] = {
    "base": 5,
    "negative_sentiment": 35,
    "positive_sentiment": -10,
    "complaint": 12,
    "abuse": 10,
    "question": 3,
}

DEFAULT_LEXICONS: dict[str, dict] = {
    "es": {
        "positive": {},
        "negative": {},
        "negations": [],
        "intensifiers": {},
        "diminishers": {},
        "insults": [],
        "complaint_markers": [],
        "question_starters": [],
    },
    "en": {
        "positive": {},
        "negative": {},
        "negations": [],
        "intensifiers": {},
        "diminishers": {},
        "insults": [],
        "complaint_markers": [],
        "question_starters": [],
    },
}
