"""The scoring engine on hand-written Spanish and English mentions (pure, no database)."""

import pytest

from protocols.defaults import default_config
from protocols.scoring.engine import compile_protocol, score_mention
from protocols.scoring.normalise import normalise
from protocols.scoring.types import AuthorContext, ScoringContext, Severity, TriageClass


@pytest.fixture(scope="module")
def protocol():
    return compile_protocol(default_config())


def score(text, protocol, **kwargs):
    return score_mention(text, protocol=protocol, **kwargs)


def signal_names(result):
    return [signal.name for signal in result.signals]


def contribution(result, name):
    return sum(signal.contribution for signal in result.signals if signal.name == name)


# --- normaliser -------------------------------------------------------------------------


def test_normaliser_folds_case_and_accents():
    assert normalise("PÉSIMO Servicio").tokens == ["pesimo", "servicio"]


def test_normaliser_shortens_elongated_words():
    result = normalise("pésimoooo y sooooo lento")
    assert result.tokens == ["pesimoo", "y", "soo", "lento"]
    assert "pesimoo" in result.elongated


def test_normaliser_removes_mentions_and_urls_and_splits_hashtags():
    result = normalise("@brisa mira https://t.co/abc #NoFunciona #fail")
    assert result.tokens == ["mira", "no", "funciona", "fail"]


def test_normaliser_turns_emoticons_and_laughter_into_words():
    assert normalise("genial :) jajaja xD").tokens == ["genial", "emopos", "emolaugh", "emolaugh"]
    assert "emosad" in normalise("qué pena :(").tokens


def test_normaliser_counts_repeated_punctuation():
    result = normalise("¿¿En serio??? No!!!")
    assert result.question_marks == 3
    assert result.exclamations == 3
    assert result.inverted_question


# --- sentiment ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Pésimo servicio, no funciona", "This is terrible, worst airline ever", "qué asco 😡"],
)
def test_negative_text_has_negative_sentiment(text, protocol):
    result = score(text, protocol)
    assert result.sentiment < -0.3
    assert "negative_sentiment" in signal_names(result)


@pytest.mark.parametrize(
    "text", ["Muchas gracias, sois geniales", "Thank you so much, great service!", "me encanta 😍"]
)
def test_positive_text_has_positive_sentiment_that_lowers_the_score(text, protocol):
    result = score(text, protocol)
    assert result.sentiment > 0.3
    assert contribution(result, "positive_sentiment") < 0


def test_no_me_gusta_nada_is_negative(protocol):
    assert score("no me gusta nada", protocol).sentiment < -0.2


def test_no_esta_mal_is_mildly_positive(protocol):
    result = score("no está mal", protocol)
    assert 0 < result.sentiment < score("está bien", protocol).sentiment + 0.2
    assert result.sentiment < score("está genial", protocol).sentiment


def test_not_bad_is_mildly_positive_and_not_good_negative(protocol):
    assert 0 < score("not bad", protocol, language="en").sentiment < 0.5
    assert score("not good", protocol, language="en").sentiment < 0


def test_nunca_and_ni_negate(protocol):
    assert score("nunca funciona", protocol).sentiment < 0
    assert score("ni bueno ni barato", protocol).sentiment < 0


def test_elongated_word_is_recognised_and_stronger(protocol):
    plain = score("pésimo", protocol, language="es").sentiment
    elongated = score("pésimoooo", protocol, language="es").sentiment
    assert plain < 0
    assert elongated < plain
    assert (
        score("sooooo good", protocol, language="en").sentiment
        > score("good", protocol, language="en").sentiment
    )


def test_emoji_carry_sentiment(protocol):
    assert score("😍😍", protocol).sentiment > 0.3
    assert score("👎😡", protocol).sentiment < -0.3


def test_intensifiers_strengthen_and_diminishers_weaken(protocol):
    base = score("es malo", protocol, language="es").sentiment
    assert score("es muy malo", protocol, language="es").sentiment < base
    assert score("es un poco malo", protocol, language="es").sentiment > base
    assert (
        score("really good", protocol, language="en").sentiment
        > score("good", protocol, language="en").sentiment
    )


def test_exclamation_marks_amplify(protocol):
    assert score("horrible!!!", protocol).sentiment < score("horrible", protocol).sentiment


def test_but_clause_weighs_more(protocol):
    assert score("el producto es bueno pero la atención es pésima", protocol).sentiment < 0


def test_language_is_detected_cheaply(protocol):
    assert score("el servicio de la empresa no funciona", protocol).language == "es"
    assert score("the service of this company is not working", protocol).language == "en"
    assert score("hola", protocol, language="es").language == "es"


# --- triage classes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Me han cobrado dos veces la factura este mes, vergonzoso",
        "Llevo tres días sin internet y nadie me contesta",
        "I was charged twice and still no refund",
        "My flight was cancelled and you lost my luggage",
    ],
)
def test_concrete_failure_is_company_fault_complaint(text, protocol):
    result = score(text, protocol)
    assert result.triage_class == TriageClass.COMPANY_FAULT
    assert result.is_complaint
    assert "complaint" in signal_names(result)


@pytest.mark.parametrize(
    "text",
    ["Odio esta empresa, sois lo peor", "This company is awful, I hate this brand"],
)
def test_annoyed_without_failure_is_no_reason_complaint(text, protocol):
    result = score(text, protocol)
    assert result.triage_class == TriageClass.NO_REASON
    assert result.is_complaint


@pytest.mark.parametrize(
    "text", ["eres un imbécil", "cállate, payaso", "you are a fucking idiot", "shut up moron"]
)
def test_insults_are_troll_abuse(text, protocol):
    result = score(text, protocol)
    assert result.triage_class == TriageClass.TROLL
    assert result.is_abusive
    assert "abuse" in signal_names(result)


def test_known_troll_with_negative_text_is_troll(protocol):
    author = AuthorContext(flags=frozenset({"known_troll"}))
    result = score("esta empresa es una vergüenza", protocol, author=author)
    assert result.triage_class == TriageClass.TROLL
    assert contribution(result, "author:known_troll") == -5


@pytest.mark.parametrize(
    "text",
    [
        "¿Cómo cambio mi tarifa?",
        "Alguien sabe a qué hora abre la tienda",
        "How do I update my billing address?",
        "does anyone know if the app works offline",
    ],
)
def test_questions(text, protocol):
    result = score(text, protocol)
    assert result.is_question
    assert result.triage_class == TriageClass.QUESTION


def test_complaint_can_also_be_a_question(protocol):
    result = score("¿Por qué me habéis cobrado dos veces? No funciona nada", protocol)
    assert result.is_question
    assert result.is_complaint
    assert result.triage_class == TriageClass.COMPANY_FAULT


@pytest.mark.parametrize(
    "text", ["¡Gracias! Un servicio excelente", "Love it, amazing support team"]
)
def test_praise(text, protocol):
    assert score(text, protocol).triage_class == TriageClass.PRAISE


@pytest.mark.parametrize("text", ["Hoy he ido a la tienda de Brisa", "Just landed in Madrid"])
def test_neutral(text, protocol):
    result = score(text, protocol)
    assert result.triage_class == TriageClass.NEUTRAL
    assert not (result.is_complaint or result.is_abusive or result.is_question)


# --- keyword groups -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "group", "boost"),
    [
        ("Voy a pedir la hoja de reclamaciones", "authority", 25),
        ("Lo he denunciado a FACUA", "authority", 25),
        ("I will contact the Ombudsman", "authority", 25),
        ("Mi abogado os va a demandar", "legal_threat", 25),
        ("see you in small claims court", "legal_threat", 25),
        ("Casi hay un incendio con el cargador", "health_safety", 30),
        ("this charger is dangerous", "health_safety", 30),
        ("Se ha producido una filtración de datos", "data_breach", 20),
        ("my account was hacked", "data_breach", 20),
    ],
)
def test_keyword_groups(text, group, boost, protocol):
    result = score(text, protocol)
    assert group in result.matched_groups
    assert contribution(result, f"keyword:{group}") == boost


def test_keyword_groups_ignore_case_and_accents_and_need_whole_words(protocol):
    assert "authority" in score("HOJA DE RECLAMACIÓNES", protocol).matched_groups
    assert "health_safety" in score("intoxicacion alimentaria", protocol).matched_groups
    assert "authority" not in score("la documentación", protocol).matched_groups
    assert "health_safety" not in score("fireworks tonight", protocol).matched_groups


def test_literal_keyword_patterns_are_not_regexes():
    config = default_config()
    config["keyword_groups"] = [
        {"key": "promo", "label": "Promo", "patterns": ["2x1 (hoy)"], "regex": False, "boost": 7}
    ]
    protocol = compile_protocol(config)
    assert score("oferta 2x1 (hoy) en tienda", protocol).matched_groups == ("promo",)
    assert score("oferta 2x1 hoy", protocol).matched_groups == ()


# --- author and context -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("followers", "boost"), [(None, 0), (10, 0), (1_000, 5), (12_000, 10), (120_000, 20)]
)
def test_reach_tiers(followers, boost, protocol):
    result = score("hola", protocol, author=AuthorContext(followers=followers))
    assert contribution(result, "reach") == boost


def test_reach_label_is_readable(protocol):
    result = score("hola", protocol, author=AuthorContext(followers=120_000))
    assert "120k followers" in next(s.label for s in result.signals if s.name == "reach")


@pytest.mark.parametrize(
    ("flag", "boost"), [("influencer", 10), ("customer", 5), ("known_troll", -5), ("ambassador", 0)]
)
def test_author_flags(flag, boost, protocol):
    result = score("hola", protocol, author=AuthorContext(flags=frozenset({flag})))
    assert contribution(result, f"author:{flag}") == boost


def test_repeat_complainant(protocol):
    once = score("no funciona", protocol, author=AuthorContext(previous_complaints=1))
    again = score("no funciona", protocol, author=AuthorContext(previous_complaints=2))
    assert "repeat_complainant" not in signal_names(once)
    assert contribution(again, "repeat_complainant") == 8
    assert again.value == once.value + 8


def test_velocity_spike(protocol):
    calm = score("no funciona", protocol, context=ScoringContext(velocity_factor=2.9))
    spike = score(
        "no funciona",
        protocol,
        context=ScoringContext(velocity_factor=4.2, velocity_topic="billing"),
    )
    assert "velocity" not in signal_names(calm)
    assert contribution(spike, "velocity") == 15
    assert "×4.2 on topic billing" in next(s.label for s in spike.signals if s.name == "velocity")


# --- value, severity, explanations --------------------------------------------------------


def test_severity_thresholds(protocol):
    assert score("", protocol).severity == Severity.LOW
    medium = score(
        "", protocol, author=AuthorContext(followers=200_000, flags=frozenset({"customer"}))
    )
    assert medium.value == 30
    assert medium.severity == Severity.MEDIUM
    high_config = default_config()
    high_config["severity_thresholds"] = {"medium": 1, "high": 5, "critical": 6}
    assert score("", compile_protocol(high_config)).severity == Severity.HIGH


def test_authority_complaint_from_big_account_is_critical(protocol):
    result = score(
        "Me han cobrado dos veces, pésimo. Voy a por la hoja de reclamaciones",
        protocol,
        author=AuthorContext(followers=150_000),
    )
    assert result.severity == Severity.CRITICAL


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hola",
        "pésimoooo servicio, no funciona!!! 😡",
        "Thanks so much, amazing :)",
        "¿Alguien sabe cómo reclamar?",
        "no está mal",
    ],
)
def test_contributions_sum_exactly_to_value(text, protocol):
    result = score(text, protocol, author=AuthorContext(followers=5_000))
    assert sum(signal.contribution for signal in result.signals) == result.value
    assert 0 <= result.value <= 100
    assert all(signal.label for signal in result.signals)


def test_cap_keeps_sum_exact_at_100(protocol):
    result = score(
        "Me han cobrado dos veces, sois unos ladrones, mi abogado os denunciará a la OCU, "
        "hubo un incendio y filtración de datos",
        protocol,
        author=AuthorContext(
            followers=500_000, flags=frozenset({"influencer"}), previous_complaints=5
        ),
        context=ScoringContext(velocity_factor=9),
    )
    assert result.value == 100
    assert "cap" in signal_names(result)
    assert sum(signal.contribution for signal in result.signals) == 100


def test_cap_keeps_sum_exact_at_0():
    config = default_config()
    config["author_flags"]["ambassador"] = -50
    result = score(
        "¡Gracias, sois los mejores!",
        compile_protocol(config),
        author=AuthorContext(flags=frozenset({"ambassador"})),
    )
    assert result.value == 0
    assert "cap" in signal_names(result)
    assert sum(signal.contribution for signal in result.signals) == 0


def test_signal_labels_explain_the_score(protocol):
    result = score("pésimo, no funciona", protocol)
    label = next(s.label for s in result.signals if s.name == "negative_sentiment")
    assert label.startswith("negative sentiment (-")
    assert '"pésimo"' in label


def test_scoring_is_deterministic(protocol):
    text = "Llevo dos horas sin fibra!!! 😡 @brisa #NoFunciona"
    assert score(text, protocol) == score(text, protocol)
    assert score(text, compile_protocol(default_config())) == score(text, protocol)


def test_empty_text(protocol):
    result = score("", protocol)
    assert result.value == 5
    assert result.sentiment == 0
    assert result.triage_class == TriageClass.NEUTRAL
    assert signal_names(result) == ["base"]


def test_supervisor_lexicon_edit_changes_the_score():
    config = default_config()
    config["lexicons"]["es"]["negative"]["cutrísimo"] = 3
    result = score("qué cutrísimo", compile_protocol(config), language="es")
    assert result.sentiment < -0.3


# --- Spanish across varieties, directed and group-targeted abuse --------------------------


@pytest.mark.parametrize(
    "text",
    [
        "qué chido quedó",  # Mexico
        "está bien padre el concierto",  # Mexico
        "la fiesta estuvo bacán",  # Chile, Peru
        "qué chévere el servicio",  # Colombia, Venezuela
        "el nuevo disco es una pasada",  # Spain
        "me flipa esta serie",  # Spain
        "no está nada mal",
        "menos mal que llegó, qué bueno",
        "🫶🔥",
    ],
)
def test_spanish_praise_across_varieties(text, protocol):
    assert score(text, protocol, language="es").sentiment >= 0.3


@pytest.mark.parametrize(
    "text",
    [
        "estoy hasta la madre de este servicio",  # Mexico
        "qué bronca me da",  # Argentina
        "sentí bien feo",  # "bien" intensifies
        "estoy muy enojado",
        "qué horror de atención, una porquería",
        "te extraño mucho",
        "ni de broma vuelvo",
    ],
)
def test_spanish_negative_across_varieties(text, protocol):
    assert score(text, protocol, language="es").sentiment <= -0.1


def test_sentiment_word_that_intensifies_only_before_another(protocol):
    assert score("está bien", protocol, language="es").sentiment > 0
    assert (
        score("es bien feo", protocol, language="es").sentiment
        < score("es feo", protocol, language="es").sentiment
    )
    assert score("pretty bad", protocol, language="en").sentiment < 0


@pytest.mark.parametrize(
    "text",
    [
        "no seas puta",
        "cállate puta",
        "tú eres una zorra",
        "malditos moros",
        "putos inmigrantes",
        "sudacas fuera",
        "que se vayan a su país",
        "you fraud",
        "liberals are brainless",
    ],
)
def test_directed_and_group_targeted_insults_are_abuse(text, protocol):
    assert score(text, protocol).is_abusive


@pytest.mark.parametrize(
    "text",
    [
        "no tengo ni puta idea",
        "qué puta vida",
        "cállate la puta boca",  # rude, but not an insult at someone
        "los inmigrantes llegaron a la costa",
        "este partido es una mierda",
        "te quiero un montón",
    ],
)
def test_profanity_without_a_target_is_not_abuse(text, protocol):
    assert not score(text, protocol, language="es").is_abusive
