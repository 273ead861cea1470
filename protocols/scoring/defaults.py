"""Default signal weights and Spanish/English lexicons of the shipped protocol.

Both are plain JSON documents (a supervisor edits them in a protocol version's ``config``
under ``weights`` and ``lexicons``); `protocols.scoring.engine.compile_protocol` turns them
into lookup tables once. Entries are written as people type them: case, accents and
apostrophes do not matter ("no funciona" also matches "NO FUNCIONAAA", "doesn't" matches
"doesnt"), and an entry with spaces is a phrase matched on whole words.

``DEFAULT_WEIGHTS`` (points of the 0-100 score unless said otherwise):

- ``base``: every mention starts here.
- ``negative_sentiment``: points at sentiment -1 (scaled by the strength of the negativity).
- ``positive_sentiment``: points at sentiment +1 (negative: praise lowers the score).
- ``complaint``: added when the mention is a complaint (either complaint class).
- ``company_fault``: added on top when the complaint names a concrete service failure.
- ``abuse``: added when the mention is insulting, hateful or trolling.
- ``question``: added when the author asks something.
- ``abuse_min_strength``: insult strength (sum of the ``insults`` strengths found) from
  which a mention counts as abusive.
- ``complaint_max_sentiment``: a concrete failure counts as a complaint when the sentiment is
  at most this (so "the refund arrived, thanks, love you!" is not a complaint, while a
  sarcastic "#HappyHolidays, my new laptop doesn't work" still is).
- ``failure_max_sentiment``: a weaker failure term (strength below 3: "factura", "bill")
  makes a complaint only when the sentiment is at most this.
- ``annoyed_max_sentiment``: a mention without a concrete failure counts as a complaint
  (``complaint_no_reason``) when its sentiment is at most this.
- ``praise_min_sentiment``: sentiment from which a mention is praise.

``DEFAULT_LEXICONS`` has one section per language (``es``, ``en``) plus ``any`` (emoji,
emoticons, laughter and loanwords used in both languages), merged into each language.
Keys of a section (all optional):

- ``positive`` / ``negative``: word or phrase -> strength 1 (mild) .. 3 (strong). The sign
  comes from the key, so write strengths as positive numbers.
- ``negations``: words that flip the polarity of the next three words ("no", "nunca", "ni",
  "not", "never", "without").
- ``intensifiers``: word or phrase -> how much it strengthens the next sentiment word
  (0.3 = 30% stronger: "muy", "really").
- ``diminishers``: word or phrase -> how much it weakens the next sentiment word
  (0.4 = 40% weaker: "un poco", "a bit").
- ``contrast``: words after which the clause counts more than what came before ("pero",
  "but").
- ``insults``: word or phrase -> strength 0.5 (vulgar, or "puta" as an intensifier), 1
  (profanity), 2 (insult), 3 (slur, hate speech).
  Insults also count as negative sentiment of the same strength unless listed in
  ``positive``/``negative``.
- ``failures``: word or phrase -> strength of a concrete service failure (charged twice,
  outage, late delivery, refund, "no funciona"). Failures also count as negative sentiment.
- ``negated_failures``: verbs that name a failure when negated ("no funciona", "doesn't
  work", "nadie contesta").
- ``service_terms``: things a customer complains about (bill, order, flight, "atención al
  cliente"); with negative sentiment they make a complaint concrete.
- ``complaint_markers``: phrases of complaining ("estoy harto", "fed up", "never again").
- ``question_starters``: words or phrases that open a question at the start of a clause
  ("cómo", "alguien sabe", "how do I", "does anyone").
- ``requests``: phrases asking for help or information without a question mark
  ("necesito saber", "please advise").
- ``second_person``: words addressing someone ("eres", "you"), which make insults direct.
- ``targets``: groups that hate speech targets ("inmigrantes", "mujeres", "immigrants").
  An insult in the same sentence as a second-person word, or in a mention that names a
  target group, gains strength 1 ("cállate puta", "malditos moros" are abuse; "ni puta
  idea" is not).
- ``stopwords``: frequent function words, used to detect the language cheaply.
"""


def _words(text: str) -> list[str]:
    """A comma-separated list of words and phrases."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _graded(*levels: tuple[float, str]) -> dict[str, float]:
    """{word: strength} from (strength, "comma, separated, words") pairs."""
    graded: dict[str, float] = {}
    for strength, text in levels:
        for word in _words(text):
            graded[word] = strength
    return graded


DEFAULT_WEIGHTS: dict[str, float] = {
    "base": 5,
    "negative_sentiment": 35,
    "positive_sentiment": -10,
    "complaint": 12,
    "company_fault": 6,
    "abuse": 10,
    "question": 3,
    "abuse_min_strength": 2,
    "complaint_max_sentiment": 0.3,
    "failure_max_sentiment": -0.3,
    "annoyed_max_sentiment": -0.45,
    "praise_min_sentiment": 0.3,
}

_ANY = {
    "positive": _graded(
        (
            3,
            "😍, 🥰, 😘, ❤, ❤️, 💕, 💖, 💗, 💓, 💞, 💘, 😻, 🤩, 🥳, 💯, 🏆, 👏, 🙌, emoheart, "
            "♥, ♥️, 🎉, 🎊",
        ),
        (
            2,
            "😀, 😃, 😄, 😁, 😊, ☺, ☺️, 🙂, 😉, 😎, 👍, 👌, 💪, ✨, 🌟, ⭐, 🤗, 😇, 🙏, 💙, 💚, "
            "💛, 💜, 🧡, 🤍, 🖤, 😋, ✅, 🌹, 🌸, 🍀, 🤝, emopos, cool, top, crack",
        ),
        (3, "🫶, 💝, 🥹"),
        (
            2,
            "🔥, 💃, 🕺, 🤙, 🤘, 🍻, 🥂, 🎂, 🎁, 🎄, 💋, 😚, 😙, 🥇, ♡, 😻",
        ),
        (
            1,
            "😆, 😅, 😂, 🤣, 😜, 😝, 😛, 🙃, 😺, 😸, 😹, 🙈, 🤭, 😌, ✌, ✌️, ☀, ☀️, 🌞, "
            "ok, okay, emolaugh",
        ),
    ),
    "negative": _graded(
        (
            3,
            "😡, 🤬, 😠, 👎, 💩, 🖕, 😤, 😭, 💔, 🤮, 🤢, 😱, wtf, fail, emosad",
        ),
        (
            2,
            "😞, 😔, 😟, 😕, 🙁, ☹, ☹️, 😣, 😖, 😫, 😩, 😢, 😥, 😰, 😨, 😧, 😦, 😒, 🙄, 😑, "
            "😐, 😬, 🤦, 🤦‍♂️, 🤦‍♀️, ❌, ⚠, ⚠️, 😪, 🥺, 😓, smh, emoannoyed",
        ),
        (2, "😿, 😾, 👿, 🤒, 🤕"),
        (1, "🤔, 😶, 🤨, 😳, 😴, 🥱, 😷, 🤧, 🙅, 🫠, 🤡, 😵, 🥵, 🥶"),
    ),
    "intensifiers": {"super": 0.3, "mega": 0.3, "ultra": 0.3},
    "insults": _graded((1, "wtf, stfu, 🖕, 💩")),
}

_ES = {
    "positive": _graded(
        (
            3,
            "excelente, excelentes, maravilloso, maravillosa, maravillosos, maravillosas, "
            "fantástico, fantástica, fantásticos, fantásticas, espectacular, espectaculares, "
            "increíble, increíbles, genial, geniales, perfecto, perfecta, perfectos, perfectas, "
            "magnífico, magnífica, estupendo, estupenda, estupendos, buenísimo, buenísima, "
            "buenísimos, buenísimas, brutal, impresionante, impresionantes, alucinante, "
            "encanta, encantan, encantó, encantaron, encantado, encantada, encantados, "
            "me encanta, me encantan, adoro, amo, te quiero, os quiero, los quiero, "
            "lo mejor, el mejor, la mejor, los mejores, las mejores, mejor imposible, "
            "de lujo, de diez, de 10, chulísimo, guapísimo, guapísima, precioso, preciosa, "
            "preciosos, preciosas, hermoso, hermosa, hermosos, hermosas, bellísimo, "
            "bellísima, felicidades, felicitaciones, enhorabuena, orgulloso, orgullosa, "
            "orgullosos, feliz, felices, felicísimo, maravilla, una maravilla, "
            "gracias de verdad, mil gracias, muchísimas gracias, muchas gracias, "
            "recomendable, recomendadísimo, lo recomiendo, os lo recomiendo, 100% recomendable, "
            "sobresaliente, inmejorable, inmejorables, buenazo, fenomenal, súper bien, "
            "bravo, olé, ole, viva, chapó, chapeau, qué gusto, qué bien, cojonudo, bacán, "
            "de puta madre, de pm, chévere, padrísimo, chido, chida, bárbaro, bárbara, copado, "
            "copada, genio, genia, "
            "ídolo, crack",
        ),
        (
            2,
            "bueno, buena, buenos, buenas, bien, gracias, agradecido, agradecida, agradecidos, "
            "agradezco, agradecemos, agradecer, gusta, gustan, gustó, gustaron, me gusta, "
            "me gustan, amable, amables, atento, atenta, atentos, atentas, rápido, rápida, "
            "rápidos, rápidas, rapidez, eficaz, eficaces, eficiente, eficientes, útil, útiles, "
            "bonito, bonita, bonitos, bonitas, lindo, linda, lindos, lindas, guapo, guapa, "
            "divertido, divertida, divertidos, simpático, simpática, contento, contenta, "
            "contentos, contentas, alegre, alegría, alegra, me alegra, nos alegra, ilusión, "
            "disfrutar, disfruta, disfruté, disfrutamos, disfrutando, éxito, éxitos, "
            "felicito, ganas, ganar, ganamos, ganó, gané, premio, triunfo, victoria, "
            "agradable, agradables, cómodo, cómoda, cómodos, limpio, limpia, amor, cariño, "
            "besos, beso, abrazo, abrazos, ánimo, ánimos, suerte, mejor, mejores, mejora, "
            "mejorado, solucionado, solucionada, resuelto, resuelta, arreglado, arreglada, "
            "funciona perfecto, funciona genial, sin problemas, recomiendo, recomendado, "
            "satisfecho, satisfecha, satisfechos, puntual, puntuales, profesional, "
            "profesionales, calidad, buen, buen servicio, buena atención, vale la pena, "
            "merece la pena, interesante, interesantes, divertidísimo, apoyo, apoyamos, "
            "esperanza, feliz día, bienvenido, "
            "bienvenida, bienvenidos, paz, sonrisa, sonrisas, risas, fiesta, gusto, guay, "
            "chulo, chula, mola, molan, molaba, cracks, campeón, campeones, ole ahí",
        ),
        (
            1,
            "vale, correcto, correcta, normal, aceptable, suficiente, bastante bien, "
            "funciona, funcionan, funcionó, tranquilo, tranquila, fácil, sencillo, sencilla, "
            "claro, buenos días, buen día, buenas noches, buenas tardes, saludos, ayudó, "
            "ayudaron, gratis, oferta, descuento, regalo, "
            "acertado, acierto, tienes razón, sano, sana, salud, "
            "espero, esperemos, ojalá, deseo, deseando",
        ),
        # Praise and joy across varieties (Mexico, Río de la Plata, Andes, Caribbean, Spain).
        (
            3,
            "chidísimo, chidísima, qué chido, bien chido, muy chido, padrísima, padrísimos, "
            "qué padre, bien padre, muy padre, está padre, chingón, chingona, bien chingón, "
            "a toda madre, bacanes, bacanísimo, bakán, bkn, qué chévere, chevere, bacano, "
            "bacana, una pasada, es una pasada, qué pasada, me flipa, me flipan, flipante, "
            "lo máximo, una joya, es una joya, me fascina, me fascinan, fascinante, te amo, "
            "los amo, las amo, te adoro, os adoro, los adoro, enamorado, enamorada, "
            "enamorados, emocionado, emocionada, emocionados, emocionante, felicidad, "
            "qué orgullo, ídola, capo, capa, capos, la rompe, la rompiste, la rompió, "
            "rompiéndola, buenardo, buenarda, chulada, qué chulada, mágico, mágica, sublime, "
            "divino, divina, divinos, gracias totales, gracias infinitas, eternamente "
            "agradecido, eternamente agradecida, bendecido, bendecida, bendiciones, "
            "feliz navidad, felices fiestas, feliz año, próspero año, feliz cumpleaños, "
            "el puto amo, la puta ama, está perrón, qué buena onda, pura vida, tuanis, "
            "de pelos, no está nada mal, nada mal, me muero de amor",
        ),
        (
            2,
            "chévere, chido, chidos, chidas, padrísimo, regio, regia, piola, macanudo, "
            "macanuda, joya, buena onda, perrón, perrona, molón, molona, a tope, "
            "logro, logros, logramos, lograr, lograste, conseguido, conseguimos, favorito, "
            "favorita, favoritos, favoritas, ganador, ganadora, ganadores, triunfador, "
            "triunfadora, exitoso, exitosa, exitosos, hermosura, belleza, bello, bella, "
            "bellos, bellas, encantador, encantadora, lindura, tierno, tierna, ternura, "
            "dulce, rica, riquísimo, riquísima, delicioso, deliciosa, "
            "deliciosos, sabroso, sabrosa, emoción, diversión, me divierto, entretenido, "
            "entretenida, grandioso, grandiosa, ideal, apoyando, agradecimiento, "
            "qué bueno, qué rico, qué lindo, qué linda, qué bonito, qué bonita, "
            "qué hermoso, qué hermosa, tranqui, relajado, relajada, aplausos, "
            "admiración, admiro, ilusionado, ilusionada, motivado, motivada, motivación, "
            "inspiración, inspirador, inspiradora, te quiero mucho, besitos, besote, "
            "abrazote, abrazos fuertes, un abrazo, un beso, saludos cordiales, "
            "claro que sí, con gusto, encantado de, un placer, qué placer, "
            "placer, disfruten, disfrutad, disfrute, sonriendo, sonríe, "
            "me alegro, nos alegramos, alegrón, fe, tengo fe, orgullo, bienvenidos, "
            "genialidad, esperanzado, esperanzada, amigazo, amiga mía, alegres, guapas, "
            "divertidas, simpáticos, simpáticas, gracioso, graciosa, chistoso, chistosa, "
            "satisfechas, felicitamos, estupendas, maravillas, amar, amé, querida, querido, "
            "queridos, queridas, cariños, cariñoso, cariñosa, amistad, triunfar, triunfamos, "
            "exitazo, brillante, brillantes, impecable, impecables, agradecidas",
        ),
        (1, "menos mal, por fin, al fin, respeto"),
        (1, "mejor, ganas, claro"),
        # "Bueno" opening a sentence is a discourse marker, not praise.
        (0, "bueno pues, pues bueno, bueno ya, bueno bueno, bueno nada, o mejor"),
    ),
    "negative": _graded(
        (
            3,
            "pésimo, pésima, pésimos, pésimas, horrible, horribles, horroroso, horrorosa, "
            "espantoso, espantosa, terrible, terribles, nefasto, nefasta, nefastos, "
            "lamentable, lamentables, vergonzoso, vergonzosa, vergüenza, una vergüenza, "
            "qué vergüenza, asco, qué asco, asqueroso, asquerosa, asquerosos, repugnante, "
            "desastre, un desastre, desastroso, desastrosa, penoso, penosa, patético, "
            "patética, indignante, indignado, indignada, indignados, indignación, odio, odiamos, "
            "odia, detesto, lo peor, el peor, la peor, los peores, las peores, peor imposible, "
            "estafa, estafadores, timo, timadores, ladrones, robo, robar, nos roban, "
            "me roban, una mierda, de mierda, basura, inaceptable, intolerable, inadmisible, "
            "harto, harta, hartos, hartas, hasta las narices, hasta los huevos, "
            "cabreado, cabreada, cabreo, furioso, furiosa, rabia, impresentable, "
            "impresentables, tomadura de pelo, cachondeo, vergonzante, catastrófico, "
            "fatal, malísimo, malísima, muy mal, nunca más, jamás volveré, no vuelvo, "
            "no volveré, no lo recomiendo, no recomiendo, huyan, huid, evitad, decepcionante, "
            "decepcionado, decepcionada, decepción, indecente, abusivo, abusivos, abuso, "
            "engaño, engañan, engañado, engañada, estafado, estafada, muerte, muerto, muertos, "
            "asesino, asesinos, asesinato, violencia, violación, corrupto, corruptos, "
            "corrupción, mentiroso, mentirosos, mentira, mentiras",
        ),
        (
            2,
            "malo, mala, malos, malas, mal, peor, peores, triste, tristes, tristeza, pena, "
            "qué pena, lástima, qué lástima, enfadado, enfadada, enfadados, enfado, molesto, "
            "molesta, molestos, molestia, molestias, cansado, cansada, cansados, aburrido, "
            "aburrida, aburridos, aburre, problema, problemas, error, errores, fallo, fallos, "
            "falla, fallan, queja, quejas, reclamación, reclamaciones, reclamar, reclamo, "
            "preocupado, preocupada, preocupación, preocupante, miedo, peligro, grave, "
            "difícil, difíciles, caro, cara, caros, carísimo, carísima, abusivo, lento, lenta, "
            "lentos, lentitud, sucio, sucia, sucios, roto, rota, rotos, culpa, culpable, "
            "injusto, injusta, injusticia, absurdo, absurda, ridículo, ridícula, ridículos, "
            "fracaso, fracasado, perder, perdido, perdida, perdimos, perdí, pierde, "
            "llorar, lloro, llorando, dolor, duele, sufrir, sufriendo, crisis, paro, "
            "desgracia, mentir, miente, mienten, falso, falsa, falsos, fraude, inútil, "
            "inútiles, incompetente, incompetentes, incompetencia, desesperado, desesperada, "
            "desesperante, insoportable, insufrible, vergonzoso, chapuza, chapuzas, cutre, "
            "rabia, grrr, argh, uf, uff, puf, buf, ni caso, ni idea, sin respuesta, "
            "ignoran, ignorado, ignorada, desastre total, mal servicio, mala atención, "
            "desprecio, peligroso, peligrosa, amenaza, ataque, atentado, guerra, muere, "
            "murió, fallece, falleció, enfermo, enferma, enfermedad, preocupa, recortes, "
            "despido, despidos, subida, subidas, impuestos, dimisión, dimite, escándalo, "
            "polémica, critica, criticar, crítica, críticas, culpa de, tarde, "
            "siempre igual, sin solución, sin solucionar",
        ),
        (
            1,
            "no, nada, nadie, nunca, sin, raro, rara, extraño, regular, mediocre, flojo, "
            "floja, justito, poco, escaso, escasa, complicado, complicada, lío, duda, dudas, "
            "cuidado, ojo, esperar, esperando, todavía, aún, sigo, otra vez, de nuevo, "
            "como siempre, falta, faltan, caída, baja, bajada, tampoco, "
            "lejos, frío, calor, lunes, madrugar, sueño, hambre",
        ),
        # Disgust, anger, sadness and boredom across varieties.
        (
            3,
            "un asco, qué asco, da asco, dan asco, me da asco, me repugna, porquería, "
            "porquerías, una porquería, qué porquería, qué mierda, vaya mierda, menuda mierda, "
            "una cagada, qué cagada, qué horror, un horror, horror, horrores, pesadilla, "
            "una pesadilla, infierno, hasta la madre, estoy hasta la madre, hasta la coronilla, "
            "hasta el gorro, hasta el moño, hasta el culo, qué poca madre, qué mal, qué feo, "
            "qué fea, deprimido, deprimida, depresión, devastado, devastada, destrozado, "
            "destrozada, me quiero morir, quiero morirme, asqueado, asqueada, furia, ira, "
            "me emputa, emputado, emputada, encabronado, encabronada, me encabrona, me caga, "
            "me revienta, qué rabia, qué coraje, me da coraje, me da rabia, qué bronca, "
            "me da bronca, qué decepción, vergüenza ajena, deplorable, odioso, odiosa, "
            "odiosos, maldita sea, una basura, qué basura, una estafa, una vergüenza, "
            "qué tristeza, qué desastre, menudo desastre, vaya desastre, un fiasco, fiasco, "
            "tragedia, trágico, trágica, luto, qepd, dep, descanse en paz, ni de broma, "
            "ni de coña, ni loco, ni loca, ni en sueños, ni en pedo, no lo soporto, "
            "no aguanto más, no puedo más",
        ),
        (
            2,
            "feo, fea, feos, feas, feísimo, feísima, te extraño, los extraño, las extraño, "
            "te echo de menos, echo de menos, extrañar, extrañando, nostalgia, soledad, "
            "lloré, lloraba, lloramos, dolió, me dolió, doloroso, dolorosa, sufro, "
            "sufrimiento, angustia, ansiedad, estrés, estresado, estresada, agobiado, "
            "agobiada, agobio, aburrimiento, fastidio, fastidiado, qué fastidio, flojera, "
            "qué flojera, pereza, qué pereza, qué palo, bajón, qué bajón, bajoneado, "
            "bajoneada, depre, deprimente, amargo, amarga, amargado, amargada, celoso, "
            "celosa, celos, envidia, temor, susto, asustado, asustada, "
            "graves, fallé, fracasé, derrota, derrotas, eliminado, eliminados, lesión, "
            "lesionado, accidente, herido, heridos, muertes, víctima, víctimas, gripe, "
            "resfriado, decepcionar, decepcionarse, decepciona, decepcionó, traición, "
            "traicionado, traicionada, traidor, traidores, ladrón, ladrona, robaron, "
            "me robaron, odiar, odié, detestar, aborrezco, qué pesado, qué pesada, "
            "qué lata, una lata, coñazo, un coñazo, peñazo, la cagué, la cagaste, la cagaron, "
            "cansancio, agotado, agotada, sin ganas, me cae mal, me caen mal, me caes mal, "
            "me cae gordo, lamentablemente, desgraciadamente, por desgracia, tristemente, "
            "qué triste, malas noticias, mala suerte, qué mala suerte, mala onda, "
            "qué mala onda, maleducado, maleducada, grosero, grosera, racista, racistas, "
            "machista, machistas, xenófobo, xenófoba, homófobo, chafa, qué chafa, "
            "mediocre, mediocres, me molesta, me jode, me duele, extraño mucho, "
            "aburridas, aburridísimo, aburridísima, ingrato, ingrata, ingratos, resignado, "
            "resignada, me resigno, desmadre, enojado, enojada, enojados, enojadas, enojo, "
            "me enoja, molestas, enfadadas, cabreados, cabreadas, hartísimo, hartísima, "
            "cansadas, preocupados, preocupadas, perdedor, perdedores, fracasada, mentirosa, "
            "mentirosas, cobarde, cobardes, hipócrita, hipócritas, ridículas, vergonzosas, "
            "penosas, patéticos, patéticas, decepcionados, decepcionadas, frustrado, frustrada, "
            "frustrante, frustración, desilusión, desilusionado, desilusionada, impotencia, "
            "abusos, maltrato, maltratos, sufre, sufren, llora, lloran, "
            "ya no puedo, no me gusta nada",
        ),
        (1, "pobre, pobrecito, pobrecita, pobres, lágrimas, cansa, me cansa, difícil, cara"),
        (2, "extraño, extraña, extrañé, extrañamos"),
    ),
    "negations": _words(
        "no, nunca, jamás, jamas, ni, nada, nadie, ningún, ninguno, ninguna, sin, tampoco, "
        "ni siquiera, en absoluto, para nada, nah"
    ),
    "intensifiers": _graded(
        (
            0.4,
            "muy, súper, super, re, requete, realmente, totalmente, completamente, "
            "absolutamente, increíblemente, extremadamente, sumamente, tremendamente, "
            "demasiado, muchísimo, híper, hiper, tan, tanto, de verdad, de veras, "
            "verdaderamente, mucho, lo más, terriblemente, infinitamente, "
            "enormemente, profundamente, especialmente, jodidamente, putamente, re contra",
        ),
        (0.2, "bastante, más, harto, harta, cada vez más"),
        # Before an adjective "bien" intensifies ("bien feo", "bien chido"); alone it praises.
        (0.4, "bien"),
        (0.4, "no me puedo creer, no puedo creer, no se puede ser más, no solo"),
    ),
    "diminishers": _graded(
        (
            0.5,
            "un poco, un poquito, algo, ligeramente, apenas, medio, casi, relativamente, "
            "más o menos, un tanto, poco, escasamente, levemente",
        ),
    ),
    "contrast": _words("pero, sin embargo, aunque, no obstante, aun así, eso sí"),
    "insults": _graded(
        # "puta"/"puto" before a noun is an intensifier ("la puta vida", "ni puta idea"),
        # and body words are vulgar, not insults: too weak to be abuse even when directed.
        (
            0.5,
            "puta vida, puta vez, una puta vez, puta madre, la puta madre, puta mierda, "
            "puta idea, ni puta idea, puta boca, la puta boca, puta cabeza, puta casa, "
            "puta gana, putas ganas, puta suerte, puto día, puto mundo, puta semana, "
            "puto año, puta hora, puto calor, puto frío, puta realidad, puta calle, "
            "puta pena, el puto amo, la puta ama, puto amo, puta ama, "
            "culo, polla, pollas, coño, cojones, hostia, hostias, leches",
        ),
        (
            1,
            "puñetera, puñetero, maldito, maldita, malditos, malditas, maldición, "
            "cagada, cagar, cagarla, mamada, mamadas, pendejada, "
            # Everyday interjections in Spanish ("joder", "de puta madre" = great): mild.
            "mierda, joder, jodido, jodida, jodidos, carajo, "
            "cojón, me cago, chingada, chingar, pinche, pinches, verga, vergas, puto, puta, "
            "putos, putas, ptm, alv, cállate, callaos, calla ya, "
            "la madre que os parió, vete a la mierda, a la mierda, que os jodan, que te jodan, "
            "chupapollas, huevón, huevona, boludo, boluda, pelotudo, pelotuda, "
            "gilipollez, gilipolleces, payasada, payasadas",
        ),
        (
            2,
            "cabrón, cabrones, hdp, ctm, csm, mamón, mamona, "
            "idiota, idiotas, imbécil, imbéciles, estúpido, estúpida, estúpidos, estúpidas, "
            "gilipollas, subnormal, subnormales, tonto, tonta, tontos, tontas, "
            "tonto del culo, capullo, capulla, capullos, cretino, cretina, cretinos, "
            "inútil de mierda, payaso, payasa, payasos, pringado, pringada, pringados, "
            "mongolo, mongola, retrasado, retrasada, retrasados, anormal, anormales, "
            "tarado, tarada, tarados, cerdo, cerda, cerdos, cerdas, asqueroso, asquerosa, "
            "basura humana, escoria, gentuza, chusma, sinvergüenza, sinvergüenzas, "
            "desgraciado, desgraciada, desgraciados, miserable, miserables, hijo de puta, "
            "hija de puta, hijos de puta, hijo de perra, malnacido, malnacida, bastardo, "
            "bastarda, bastardos, zorra, zorras, perra, perras, guarra, guarras, golfa, "
            "pendejo, pendeja, pendejos, pendejas, culero, culera, cabrona, mamahuevo, "
            "mal parido, malparido, malparida, gonorrea, carechimba, ñero, hijueputa, "
            "hijueputas, zorrón, furcia, ramera, fulana, putón, cornudo, lameculos, "
            "chupamedias, rata, ratas, parásito, parásitos, sanguijuela, sanguijuelas, "
            "vago, vaga, vagos, mantenido, mantenidos, mantenida, analfabeto, analfabeta, "
            "analfabetos, ignorante, ignorantes, borracho, borracha, mamarracho, mamarracha, "
            "putita, putitas, zorrita, chacha, gorda asquerosa, fea de mierda, "
            "pinche vieja, pinches viejas, feminazi, feminazis, machirulo, machirulos, "
            "facha, fachas, rojo de mierda, "
            "perroflauta, perroflautas, cierra la boca, "
            "cierra el pico, lárgate, largaos, muérete, muérete ya, "
            "ojalá te mueras, ojalá os muráis, tu puta madre",
        ),
        (
            3,
            "sudaca, sudacas, sudaka, sudakas, panchito, panchitos, moro de mierda, "
            "moros de mierda, "
            "negro de mierda, negros de mierda, negrata, negratas, maricón, maricones, "
            "marica, maricas, bollera, bolleras, travelo, sarnoso, sarnosa, sarnosos, "
            "mena, menas, invasores, invasión, invasion, ilegales, inmigrantes ilegales, "
            "a su país, a su puto país, a vuestro país, que se vayan, fuera de aquí, "
            "fuera de españa, deportación, deportar, deporten, expulsión, expulsarlos, "
            "echarlos, devolverlos, machacarlos, matarlos, hay que matar, exterminar, "
            "escoria inmigrante, ratas inmigrantes, putas inmigrantes, las mujeres a la "
            "cocina, a fregar, vete a fregar, puta feminista, putas feministas, violarla, "
            "violada, violar, te violo, zorra de mierda, puta de mierda, gitanos de mierda, "
            "moromierda, moromierdas, moraco, moracos, veneco, venecos, perucho, peruchos, "
            "bolita de mierda, indio de mierda, cholo de mierda, simio, simios, cucarachas, "
            "plaga de inmigrantes, fuera inmigrantes, inmigrantes fuera, fuera ilegales, "
            "ilegales fuera, fuera moros, que se vayan a su país, que se larguen, "
            "vuelvan a su país, volved a vuestro país, a su puta casa, devuélvanlos, "
            "que los echen, hay que echarlos, muertos de hambre, muerto de hambre, "
            "eres una puta, eres una zorra, eres una perra, eres puta, sos puta, sos una puta, "
            "no seas puta, pinche puta, pinches putas, puta barata, zorra barata, vieja puta, "
            "vieja zorra, so puta, so zorra, la muy puta, la muy zorra, maldita puta, "
            "maldita zorra, maldita perra, perra malparida, puta asquerosa, zorra asquerosa, "
            "calientapollas, mujerzuela, mujerzuelas, buscona, marimacho, machorra, "
            "hembrista, hembristas",
        ),
    ),
    "failures": _graded(
        (
            3,
            "no funciona, no funcionan, no me funciona, no nos funciona, no va, no me va, "
            "no anda, no carga, no conecta, no me deja, sin servicio, sin luz, sin internet, "
            "sin conexión, sin cobertura, sin señal, sin línea, sin agua, sin gas, sin fibra, "
            "caído, caída del servicio, está caído, está caída, se ha caído, se cae, "
            "avería, averías, averiado, averiada, cobro indebido, cobros indebidos, "
            "me han cobrado, me cobraron, me cobran, cobrado dos veces, cobro doble, doble cobro, "
            "me han estafado, me han robado, no me han devuelto, no me devuelven, "
            "sin reembolso, reembolso, reembolsos, devolución, devoluciones, "
            "no ha llegado, no me ha llegado, no llega, no llegó, nunca llegó, sin entregar, "
            "pedido perdido, paquete perdido, perdieron mi, han perdido, maleta perdida, "
            "equipaje perdido, vuelo cancelado, cancelado, cancelada, cancelaron, "
            "cancelación, overbooking, retraso, retrasos, retrasado, retrasada, con retraso, "
            "se ha retrasado, llevo horas, llevo días, llevo semanas, llevo meses, "
            "horas esperando, días esperando, semanas esperando, sigo esperando, "
            "seguimos esperando, "
            "nadie me atiende, nadie contesta, nadie responde, no contestan, no responden, "
            "no me contestan, no me responden, no atienden, ni me contestan, sin atención, "
            "estropeado, estropeada, roto, rota, defectuoso, defectuosa, dañado, dañada, "
            "factura errónea, error en la factura, me han subido, subida de precio, "
            "me han dado de baja, dado de baja, doble factura, corte de luz, corte de agua, "
            "cortes de luz, apagón, cortaron, me cortaron, fuera de servicio, colgado, "
            "se cuelga, se bloquea, bloqueado, bloqueada, se congela, no puedo entrar, "
            "no puedo acceder, no me deja entrar, no puedo pagar, no carga la página, "
            "me quedé tirado, me quedé tirada, tirado en, nos dejaron tirados, "
            "atención al cliente pésima, servicio técnico",
        ),
        (
            2,
            "fallo, fallos, falla, error, errores, incidencia, incidencias, problema con, "
            "problemas con, cobro, cobros, cobran, cobrando, factura, facturas, facturación, "
            "recibo, cargo, cargos, tarifa, permanencia, penalización, reclamación, "
            "reclamaciones, hoja de reclamaciones, queja formal, sin respuesta, espera, "
            "esperando, todavía no, aún no, sigue sin, sigo sin, seguimos sin, otra vez sin, "
            "lento, lentitud, va lento, va fatal, funciona fatal, funciona mal, mal servicio, "
            "tarde, llega tarde, llegó tarde, no hay forma, imposible contactar, "
            "no hay manera, me tienen, técnico, el técnico, ticket, número de incidencia",
        ),
    ),
    "negated_failures": _words(
        "funciona, funcionan, funcionaba, funcionó, va, anda, carga, conecta, llega, "
        "llegan, llegó, ha llegado, han llegado, contesta, contestan, contestáis, responde, "
        "responden, respondéis, atiende, atienden, soluciona, solucionan, arreglan, arregla, "
        "devuelven, devuelve, funcionando, sirve, sirven, aparece, funciona bien, "
        "hacen caso, dan solución, recibido, me llega"
    ),
    "service_terms": _words(
        "factura, facturas, recibo, cobro, cargo, tarifa, precio, pedido, pedidos, paquete, "
        "envío, entrega, repartidor, mensajero, vuelo, vuelos, maleta, equipaje, embarque, "
        "tren, billete, billetes, reserva, habitación, cuenta, tarjeta, banco, app, "
        "aplicación, web, página, servidor, fibra, internet, wifi, router, línea, móvil, "
        "cobertura, señal, luz, gas, agua, contrato, permanencia, atención al cliente, "
        "servicio al cliente, servicio técnico, soporte, teléfono, llamada, operador, "
        "técnico, garantía, producto, compra, tienda, devolución, reembolso, suscripción, "
        "cliente, clientes, servicio, consumo, oficina, sucursal, cajero, transferencia"
    ),
    "complaint_markers": _words(
        "estoy harto, estoy harta, estamos hartos, hasta cuándo, ya está bien, qué vergüenza, "
        "es una vergüenza, es increíble que, no es normal, no es de recibo, inaceptable, "
        "exijo, exigimos, quiero mi dinero, quiero una solución, quiero hablar con, "
        "me quejo, queja, quejas, reclamo, reclamación, denuncia, denunciar, "
        "nunca más, no vuelvo, no volveré, me doy de baja, darme de baja, cambiarme de, "
        "me cambio a, me voy a la competencia, qué servicio, menudo servicio, "
        "vaya servicio, pésimo servicio, mal servicio, malísimo servicio, "
        "otra vez, una vez más, como siempre, siempre igual, "
        "no me dan, me tienen, ni caso, tomadura de pelo, solucionadlo, "
        "arreglen, arreglad, solucionen, hagan algo, haced algo, dad la cara, "
        "ya basta, basta ya, gracias por nada"
    ),
    "question_starters": _words(
        "qué, que, cómo, como, cuándo, cuando, dónde, donde, adónde, por qué, porqué, "
        "quién, quiénes, cuál, cuáles, cuánto, cuánta, cuántos, cuántas, alguien sabe, "
        "alguien me, alguien conoce, alguien tiene, sabéis, sabes, sabe alguien, "
        "sabéis si, sabes si, podéis, puedes, podrían, podrías, pueden, puede, me podéis, "
        "me puedes, me pueden, hay alguna, hay algún, hay forma, hay manera, es posible, "
        "se puede, existe, tenéis, tienes, tienen, hacéis, es normal, es verdad, "
        "es cierto, me ayudáis, me ayudas, me ayudan, me explicáis, me explicas, "
        "a qué hora, para cuándo, hasta cuándo, dónde puedo, cómo puedo, cómo se, "
        "qué tengo que, qué hago, qué pasa, qué pasó, qué ha pasado, y si, "
        "vosotros sabéis, alguna idea, algún consejo"
    ),
    "requests": _words(
        "necesito saber, quería saber, quisiera saber, me gustaría saber, me podéis decir, "
        "me puedes decir, me pueden decir, me podéis ayudar, me puedes ayudar, "
        "me pueden ayudar, me podéis informar, agradecería información, alguna idea, "
        "algún consejo, recomendaciones, me recomendáis, me recomiendas, os pregunto, "
        "una pregunta, una duda, tengo una duda, consulta, pregunta"
    ),
    "targets": _words(
        "inmigrantes, inmigrante, migrantes, migrante, emigrantes, refugiados, refugiadas, "
        "extranjeros, extranjeras, moros, moras, árabes, musulmanes, musulmanas, islam, "
        "islámicos, negros, negras, sudamericanos, latinos, latinas, gitanos, gitanas, judíos, "
        "chinos, venezolanos, venezolanas, colombianos, marroquíes, rumanos, haitianos, "
        "mexicanos, peruanos, bolivianos, africanos, subsaharianos, menas, ilegales, "
        "indocumentados, sin papeles, pateras, patera, mujeres, mujer, feministas, feminista, "
        "viejas, gays, lesbianas, trans, homosexuales"
    ),
    "second_person": _words(
        "tú, tu, te, ti, eres, estás, sois, estáis, vosotros, vosotras, os, vuestro, "
        "vuestra, usted, ustedes, vos, sos"
    ),
    "stopwords": _words(
        "de, la, que, el, en, y, los, se, del, las, un, por, con, una, su, para, es, al, lo, "
        "como, más, pero, sus, le, ya, o, fue, este, ha, sí, porque, esta, son, entre, está, "
        "cuando, muy, sin, sobre, ser, también, me, hasta, hay, donde, han, quien, están, "
        "desde, todo, nos, durante, todos, uno, les, ni, contra, otros, ese, eso, ante, "
        "ellos, e, esto, mí, antes, algunos, qué, unos, yo, otro, otras, otra, él, tanto, "
        "esa, estos, mucho, quienes, nada, muchos, cual, poco, ella, estar, estas, algunas, "
        "algo, nosotros, mi, mis, tú, te, ti, tu, tus, ellas, nosotras, vosotros, os, mío, "
        "hoy, ayer, mañana, gracias, vez, bien, tengo, tiene, hace, puede, día, años, "
        "aquí, así, pues, mejor, ahora, va, todavía, siempre, nunca, llevo, cuenta, dónde"
    ),
}

_EN = {
    "positive": _graded(
        (
            3,
            "excellent, amazing, awesome, outstanding, fantastic, wonderful, brilliant, superb, "
            "incredible, perfect, perfectly, phenomenal, spectacular, magnificent, marvelous, "
            "marvellous, exceptional, terrific, fabulous, stunning, flawless, impeccable, "
            "love, loved, loving, loves, adore, adored, best, the best, love it, love you, "
            "thank you so much, thanks so much, thank you very much, many thanks, "
            "highly recommend, 10/10, five stars, 5 stars, kudos, bravo, legend, legendary, "
            "delighted, thrilled, ecstatic, overjoyed, grateful, thankful, appreciate it, "
            "much appreciated, greatly appreciated, blessed, congrats, congratulations, "
            "beautiful, gorgeous, lovely, happiest, best ever, world class, top notch, "
            "above and beyond, went above and beyond, lifesaver, life saver, rockstar, "
            "rock star, heroes, hero, champion, champions, epic, fav, fave, favorite, "
            "favourite, yay, woohoo, woo hoo",
        ),
        (
            2,
            "good, great, nice, happy, glad, pleased, thanks, thank you, thx, thanx, ty, "
            "appreciate, appreciated, i like, we like, like it, like this, liked, enjoy, "
            "enjoyed, enjoying, fun, "
            "helpful, friendly, kind, kindly, polite, courteous, professional, quick, quickly, "
            "fast, efficient, smooth, smoothly, comfortable, clean, fresh, tasty, "
            "delicious, cute, pretty, sweet, cool, wow, win, won, winner, winning, success, "
            "successful, recommend, recommended, worth it, well done, good job, great job, "
            "nice job, good work, great work, props, shoutout, shout out, on time, "
            "fixed, resolved, solved, sorted, works great, works perfectly, no problems, "
            "no issues, hassle free, pleasure, pleasant, enjoyable, impressive, impressed, "
            "satisfied, exciting, excited, excellent service, great service, good service, "
            "awesome service, improved, improvement, upgraded, welcome, stellar, finest, "
            "yummy, "
            "supportive, safe, safely, reliable, quality, proud, hope, hopefully, "
            "wish, luck, good luck, peace, smile, smiles, laugh, hug, hugs, cheers, "
            "friendly staff, fair, generous, bonus, ok thanks",
        ),
        (
            1,
            "ok, okay, fine, alright, decent, works, working, worked, interesting, better, "
            "helped, agree, agreed, correct, not bad, yes, yeah, yep, upgrade, "
            "fair enough, funny",
        ),
    ),
    "negative": _graded(
        (
            3,
            "terrible, horrible, awful, worst, the worst, disgusting, disgraceful, disgrace, "
            "pathetic, atrocious, appalling, abysmal, dreadful, horrendous, horrific, "
            "unacceptable, outrageous, ridiculous, absurd, shameful, shame on you, "
            "hate, hated, hates, hating, despise, furious, livid, outraged, enraged, "
            "disgusted, sick of, fed up, tired of, never again, never flying, never fly, "
            "never using, worst experience, worst service, worst customer service, "
            "nightmare, disaster, disastrous, catastrophe, fiasco, scam, scammed, scammers, "
            "rip off, ripoff, ripped off, fraud, fraudulent, thieves, stole, stolen, "
            "liar, liars, lied, lies, incompetent, incompetence, useless, hopeless, "
            "garbage, trash, rubbish, crap, crappy, sucks, suck, sucked, screwed, "
            "pissed, pissed off, infuriating, infuriated, unbelievable, inexcusable, "
            "unprofessional, rude, rudest, insulting, joke, a joke, what a joke, "
            "killed, kill, killing, murder, murdered, died, dead, death, evil, "
            "worse than, do not recommend, dont recommend, wouldnt recommend, avoid, "
            "stay away, poor service, bad service, lousy, dumpster fire, fuming",
        ),
        (
            2,
            "bad, poor, poorly, worse, wrong, sad, sadly, unhappy, upset, angry, annoyed, "
            "annoying, frustrated, frustrating, frustration, disappointed, disappointing, "
            "disappointment, unfortunately, sorry, problem, problems, issue, issues, "
            "trouble, complaint, complaints, complain, complaining, fail, failed, failing, "
            "failure, fault, mess, messed, messed up, slow, slowest, expensive, overpriced, "
            "dirty, broken, broke, damaged, ruined, ruin, hurt, hurts, pain, painful, "
            "stress, stressful, stressed, worried, worry, worrying, afraid, scared, fear, "
            "danger, dangerous, risk, lost, lose, losing, loser, miss, missed, missing, "
            "cry, crying, tears, lame, boring, bored, mad, confusing, confused, stupid, "
            "rude, ignore, ignored, ignoring, nobody, unhelpful, unreliable, inconvenient, "
            "inconvenience, hassle, headache, waste, wasted, wasting, waste of time, "
            "waste of money, no help, no response, no answer, no reply, nothing, never, "
            "again, yet again, once again, shocking, shocked, "
            "uncomfortable, cramped, cold, late, delayed, delay, delays, stuck, stranded, "
            "sick, disease, war, attack, attacks, crisis, crime, criminal, corrupt, "
            "violence, victim, victims, threat, threatening, hell, sucks, ugh, argh, "
            "meh, smh, wtf, fml, rip, bs, nonsense, fake, lie, lying, cheat, cheated, cheating, "
            "blame, guilty, poorly handled, mishandled",
        ),
        (
            1,
            "no, not, without, wait, waiting, waited, hold, again, cant, cannot, couldnt, "
            "wont, didnt, doesnt, dont, "
            "isnt, wasnt, hard, difficult, tough, tired, unfortunately, weird, strange, odd, "
            "doubt, least, long, longer, hmm, hmmm, questionable, "
            "apparently, supposedly",
        ),
    ),
    "negations": _words(
        "not, no, never, neither, nor, none, nobody, nothing, nowhere, without, cannot, cant, "
        "couldnt, dont, doesnt, didnt, isnt, arent, wasnt, werent, wont, wouldnt, shouldnt, "
        "havent, hasnt, hadnt, aint, mustnt, neednt, nope, nah, hardly, barely, scarcely, "
        "lack, lacks, lacking, no longer, not even, at all"
    ),
    "intensifiers": _graded(
        (
            0.4,
            "very, really, so, too, extremely, super, totally, absolutely, completely, "
            "incredibly, highly, truly, seriously, utterly, thoroughly, insanely, ridiculously, "
            "terribly, awfully, exceptionally, especially, particularly, remarkably, "
            "unbelievably, hugely, majorly, mega, such, so much, way, way too, most, "
            "fucking, fuckin, freaking, freakin, frickin, damn, bloody, hella, effing, "
            "deeply, entirely, purely, amazingly, extraordinarily, the most",
        ),
        (0.2, "quite, pretty, more, much, fairly, real"),
        # Not negations: "can't believe how bad" is very bad.
        (0.4, "cant believe, cannot believe, couldnt be more, cant be more, not only"),
    ),
    "diminishers": _graded(
        (
            0.5,
            "a bit, a little, a little bit, slightly, somewhat, kind of, kinda, sort of, "
            "sorta, marginally, partly, partially, mildly, occasionally, almost, nearly, "
            "less, barely, hardly, a tad, relatively, moderately",
        ),
    ),
    "contrast": _words("but, however, although, though, nevertheless, except"),
    "insults": _graded(
        (
            1,
            "crap, crappy, damn, damned, goddamn, dammit, hell, piss, pissed, bloody, bugger, "
            "sucks, suck it, bitching, bitchy, balls, bollocks, tits, boobs, sexy, porn, "
            "get lost, lmao, lmfao, omfg, criminal, criminals, corrupt, evil, sick, die, "
            "nazi, nazis, fascist, fascists, commie, commies, crook, crooks, thug, thugs, "
            "ugly, fat, sheep, ignorant, brainwashed, deplorable, deplorables, snowflake, "
            "snowflakes, creepy, hypocrite, hypocrites, traitor, traitors, liar, liars, "
            "fraud, frauds, racist, racists, bigot, bigots, nuts, clueless, brainless, "
            "low iq, hateful, wicked, lying, shameless, hypocritical, "
            "drama queen, big mouth, loudmouth, butt, buttmunch, wacko, whacko, nutter, "
            "crybaby, cry baby, sore loser, dimwit, halfwit, nitwit, numbskull, airhead",
        ),
        (
            2,
            "fuck, fucking, fucked, fucker, fuckin, fck, fcking, fk, fuk, f*ck, f**k, "
            "shit, shitty, shits, bullshit, ass, arse, asses, wtf, stfu, gtfo, "
            "screw you, screw them, douche, dick, dicks, cock, pussy, wanker, "
            "shut up, go to hell",
        ),
        (
            2,
            "idiot, idiots, idiotic, stupid, stupidity, moron, morons, moronic, dumb, dumbass, "
            "dumbasses, imbecile, imbeciles, fool, fools, foolish, loser, losers, jerk, jerks, "
            "asshole, assholes, arsehole, arseholes, bastard, bastards, bitch, bitches, "
            "son of a bitch, scum, scumbag, scumbags, dirtbag, pig, pigs, piece of shit, "
            "pos, clown, clowns, troll, trolls, coward, cowards, degenerate, degenerates, "
            "lunatic, lunatics, nutjob, nut job, psycho, psychopath, sociopath, creep, "
            "pervert, perv, slut, sluts, whore, whores, skank, hoe, hoes, thot, twat, twats, "
            "cunt, cunts, prick, pricks, motherfucker, motherfuckers, mf, mofo, shithead, "
            "dipshit, jackass, jackasses, douchebag, douchebags, idiot in chief, lowlife, "
            "garbage human, sicko, libtard, libtards, cuck, cucks, brain dead, braindead, "
            "sheeple, dumb as, freak, freaks, weirdo, nutcase, kill yourself, kys, "
            "drop dead, go die, you suck",
        ),
        (
            3,
            "nigger, niggers, nigga, niggas, faggot, faggots, fag, fags, dyke, dykes, tranny, "
            "trannies, retard, retards, retarded, spic, spics, wetback, wetbacks, chink, chinks, "
            "kike, kikes, paki, pakis, raghead, ragheads, towelhead, sand nigger, gook, gooks, "
            "beaner, beaners, coon, coons, savages, subhuman, vermin, invaders, illegals, "
            "illegal aliens, go back to your country, go back where you came from, "
            "send them back, deport them all, rapefugees, rapist, rapists, rape, "
            "build the wall, ban islam, ban muslims, stop immigration, bitch ass, "
            "kill all, hang them, shoot them, gas them",
        ),
    ),
    "failures": _graded(
        (
            3,
            "not working, doesnt work, dont work, didnt work, isnt working, wont work, "
            "stopped working, no longer works, keeps crashing, crashed, crashes, crashing, "
            "outage, outages, is down, are down, went down, service down, site down, app down, "
            "no service, no signal, no internet, no wifi, no power, no connection, no network, "
            "cant connect, cannot connect, cant log in, cant login, cant sign in, "
            "cant access, unable to, wont load, not loading, wont let me, "
            "charged twice, double charged, overcharged, charged me, billed twice, "
            "wrong charge, unauthorized charge, hidden fees, hidden fee, refund, refunds, "
            "no refund, still no refund, money back, never arrived, hasnt arrived, "
            "didnt arrive, not arrived, not delivered, never delivered, never received, "
            "didnt receive, havent received, wrong order, missing item, missing items, "
            "lost my, lost our, lost luggage, lost bag, lost bags, lost baggage, "
            "damaged luggage, broken, broke down, defective, faulty, damaged, "
            "cancelled, canceled, cancellation, cancelled flight, canceled flight, "
            "flight cancelled, flightled, delayed, delays, delay, late flight, missed my, "
            "missed connection, missed our, overbooked, bumped, stranded, stuck on, "
            "stuck at, stuck in, on hold, hold for, been on hold, hours on hold, "
            "still waiting, been waiting, waiting for, waited, no one answers, "
            "nobody answers, no one responds, no response, no reply, no answer, "
            "never responded, never answered, never called back, hung up, disconnected, "
            "cut off, error message, error, errors, bug, bugs, glitch, glitches, glitchy, "
            "freezes, freezing, frozen, kept crashing, dead on arrival, doa, "
            "poor service, terrible service, worst service, bad customer service, "
            "terrible customer service, horrible customer service, service sucks",
        ),
        (
            2,
            "issue with, issues with, problem with, problems with, trouble with, "
            "charge, charged, charges, fee, fees, bill, billing, invoice, refund request, "
            "late, waiting, wait time, hold time, hours, customer service, customer support, "
            "support ticket, ticket, complaint, complaints, fix this, fix it, fix your, "
            "sort this out, sort it out, slow, slowest, lag, lagging, laggy, rebook, "
            "rebooked, reschedule, rescheduled, missing, lost, leaking, leak, battery, "
            "stopped, went out, died on me, dead, keeps, keep getting, "
            "still, again, yet again, for hours, for days, for weeks, 2 hours, 3 hours",
        ),
    ),
    "negated_failures": _words(
        "work, works, working, worked, arrive, arrived, arriving, load, loads, loading, "
        "connect, connects, respond, responded, responding, answer, answered, answering, "
        "reply, replied, replying, help, helped, helping, received, receive, delivered, "
        "deliver, show up, showed up, showing up, connecting, print, printing, syncing, "
        "sync, open, opening, start, starting, boot, booting, turn on, charge, charging, "
        "call back, called back, "
        "fix, fixed, resolved, refund, refunded, get through, pick up, picked up"
    ),
    "service_terms": _words(
        "bill, billing, invoice, charge, payment, account, order, orders, package, parcel, "
        "delivery, shipping, shipment, courier, flight, flights, plane, gate, luggage, "
        "baggage, bag, bags, seat, seats, boarding, crew, pilot, booking, reservation, "
        "ticket, tickets, room, hotel, card, bank, app, website, site, server, servers, "
        "internet, wifi, broadband, router, phone, line, signal, coverage, power, "
        "electricity, gas, water, contract, plan, subscription, customer service, "
        "customer support, support, agent, agents, representative, rep, call center, "
        "helpline, hotline, technician, warranty, product, purchase, store, shop, "
        "refund, return, update, upgrade, install, driver, drivers, device, laptop, "
        "computer, pc, console, game, service, staff"
    ),
    "complaint_markers": _words(
        "fed up, sick of, tired of, sick and tired, enough is enough, unacceptable, "
        "how hard is it, how difficult is it, how is it possible, why is it, why does, "
        "why do you, why cant you, why wont you, why is my, why are you, what is going on, "
        "whats going on, thanks for nothing, "
        "never again, switching to, switch to, cancel my, cancelling my, canceling my, "
        "want my money, i want a refund, demand, i demand, do better, step up, "
        "get it together, get your act together, shame on, complaint, complain, "
        "yet again, every time, every single time, "
        "not happy, not impressed, not acceptable, not ok, not okay, not good enough, "
        "i paid, we paid, paid for, customer for, loyal customer, fix it, fix this"
    ),
    "question_starters": _words(
        "how, what, when, where, why, who, whom, whose, which, how do, how does, how can, "
        "how long, how much, how many, is it, is there, is this, is that, are there, "
        "are you, are they, are we, do you, do they, do i, do we, does, did, didnt, "
        "doesnt, can i, can you, can we, can someone, can anyone, could you, could i, "
        "could someone, would you, would it, will you, will it, will there, will i, "
        "should i, should we, shall we, have you, has anyone, has anybody, have they, "
        "anyone know, anybody know, does anyone, does anybody, any idea, any ideas, "
        "any advice, any tips, anyone else, any update, any news, any word, "
        "is anyone, whats, wheres, whos, hows, whens, wanna know, wondering, "
        "i wonder, u know, you know if"
    ),
    "requests": _words(
        "please advise, please help, pls help, plz help, help me, can you help, "
        "could you help, need help, need some help, looking for advice, any suggestions, "
        "any recommendations, let me know, please let me know, pls let me know, "
        "please tell me, wondering if, i was wondering, wanted to know, want to know, "
        "need to know, does anyone know, anyone know, dm me, question for you, "
        "quick question"
    ),
    "targets": _words(
        "immigrants, immigrant, migrants, refugees, illegals, aliens, muslims, muslim, islam, "
        "arabs, blacks, jews, mexicans, latinos, women, woman, girls, feminists, feminist, "
        "gays, lesbians, trans, transgender, homosexuals, liberals, conservatives, democrats, "
        "republicans, leftists, politicians"
    ),
    "second_person": _words(
        "you, your, youre, yours, yourself, yourselves, u, ur, ya, yall, thou, thee"
    ),
    "stopwords": _words(
        "the, and, to, of, a, in, is, it, you, that, for, on, my, with, this, be, are, was, "
        "have, not, but, i, at, they, we, your, from, or, an, will, all, would, there, "
        "their, what, so, if, about, who, which, when, can, just, do, get, me, has, been, "
        "out, up, them, he, she, his, her, him, our, us, its, it's, im, dont, than, then, "
        "now, how, why, any, some, because, did, were, had, does, could, should, into, "
        "over, after, thanks, still, again, only, even, much, more, very, really, is, am, "
        "hour, hours, flight, got, going, know, think, today, time, one, back, need"
    ),
}

DEFAULT_LEXICONS: dict[str, dict] = {"any": _ANY, "es": _ES, "en": _EN}
