"""Hand-written Spanish and English templates and slot values for the simulated Brisa stream."""

# Templates are prose: one sentence per line reads better than strings split to fit.
# ruff: noqa: E501

from __future__ import annotations

# Every template names the brand through {brand} (or its crisis hashtag) so that a search for
# "brisa" finds every post, as a brand monitor's keyword search would.

# fmt: off
# --- slot values --------------------------------------------------------------------------
BRAND_FORMS = {
    "es": (
        "Brisa", "Brisa", "@brisa", "@Brisa", "#brisa", "@BrisaTelecom",
    ),
    "en": (
        "Brisa", "Brisa", "@BrisaTelecom", "Brisa UK", "#brisa", "@brisa",
    ),
}
CITIES = {
    "es": (
        "Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Bilbao", "Murcia",
        "Valladolid", "Vigo", "Granada", "Alicante", "Córdoba", "Gijón", "Salamanca", "Cádiz",
        "Pamplona", "Santander", "Toledo", "Almería",
    ),
    "en": (
        "London", "Manchester", "Leeds", "Glasgow", "Bristol", "Cardiff", "Liverpool", "Birmingham",
        "Edinburgh", "Sheffield", "Newcastle", "Brighton", "Nottingham", "Belfast", "Southampton",
        "Norwich",
    ),
}
# Feminine nouns only, because Spanish templates write "la {product}".
PRODUCTS = {
    "es": (
        "fibra", "tarifa de móvil", "fibra de 1 Gb", "línea móvil", "eSIM", "tarifa con roaming",
        "tarifa familiar", "línea fija", "conexión 5G",
    ),
    "en": (
        "broadband", "fibre", "SIM-only plan", "5G", "contract", "eSIM", "home broadband",
        "family plan", "roaming add-on",
    ),
}
AMOUNTS = (
    19.95, 24.9, 27.5, 29.99, 34.95, 39.9, 42.0, 45.5, 52.3, 61.9, 74.99,
)
MONTHS = {
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
        "octubre", "noviembre", "diciembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ),
}
CHANNELS = {
    "es": (
        "atención al cliente", "el chat", "el teléfono de ayuda", "la tienda", "la app",
    ),
    "en": (
        "customer service", "the live chat", "the helpline", "the shop", "the app",
    ),
}
EMOJI = {
    "happy": (
        "😊", "🙌", "👍", "✨", "💙", "🥳", "😍", "👏",
    ),
    "neutral": (
        "📱", "🤔", "😅", "👀", "📶", "🙂", "",
    ),
    "angry": (
        "😡", "🤬", "😤", "🙄", "👎", "💸", "😠", "",
    ),
    "sad": (
        "😞", "😩", "😭", "😔", "",
    ),
    "laugh": (
        "😂", "🤣", "🤡", "💀",
    ),
}
INTERJECTIONS = {
    "es": (
        "En serio,", "Vaya tela.", "Buah,", "A ver,", "Lo que faltaba:", "Increíble.", "Uf,",
    ),
    "en": (
        "Honestly,", "Ugh,", "Seriously,", "Right,", "Unbelievable.", "Well,", "Great,",
    ),
}
HASHTAGS = {
    "es": (
        "#atenciónalcliente", "#fibra", "#telecos", "#5G", "#móvil", "#consumo",
    ),
    "en": (
        "#customerservice", "#broadband", "#5G", "#UK", "#mobile", "#telecoms",
    ),
}
CRISIS_HASHTAGS = {
    "es": (
        "#cobroduplicado", "#BrisaDevuélvemelo", "#brisa", "#facturaduplicada",
    ),
    "en": (
        "#doublecharged", "#BrisaRefund", "#brisa", "#billingerror",
    ),
}
# Words people stretch when they are cross or delighted ("pésimoooo").
ELONGATABLE = {
    "es": (
        "pésimo", "pésima", "fatal", "nada", "gracias", "genial", "harto", "harta", "nunca",
        "vergüenza", "lento", "mal", "ya", "todo", "increíble",
    ),
    "en": (
        "so", "slow", "never", "terrible", "awful", "thanks", "love", "again", "useless",
    ),
}
# --- people -------------------------------------------------------------------------------
FIRST_NAMES = {
    "es": (
        "Lucía", "Marta", "Javier", "Pablo", "Carmen", "Alejandro", "Sofía", "Daniel", "Laura",
        "Sergio", "Elena", "Álvaro", "Nuria", "Raúl", "Irene", "Jorge", "Paula", "Adrián",
        "Cristina", "Manuel", "Rocío", "Iker", "Ainhoa", "Hugo", "Noelia", "Rubén", "Alba", "Diego",
        "Marina", "Óscar", "Pilar", "Íñigo", "Begoña", "Andrés", "Claudia", "Mario",
    ),
    "en": (
        "Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Noah", "Mia", "Jack", "Emily",
        "Charlie", "Grace", "Thomas", "Sophie", "James", "Chloe", "William", "Lucy", "Alfie",
        "Ellie", "Priya", "Callum", "Niamh", "Rhys", "Aisha", "Ewan", "Freya", "Kieran",
    ),
}
SURNAMES = {
    "es": (
        "García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández", "Ruiz", "Díaz",
        "Moreno", "Jiménez", "Romero", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil",
        "Serrano", "Molina", "Ortega", "Castro", "Iglesias", "Etxeberria", "Prieto",
    ),
    "en": (
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
        "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
        "Wood", "Hughes", "Campbell", "Murphy", "Khan", "O'Neill", "MacLeod",
    ),
}
NICKNAME_WORDS = {
    "es": (
        "ciclista", "cafeconleche", "gatoazul", "viajera", "futbolero", "lectora", "runner", "dev",
        "foodie", "montañero", "profe", "enfermera", "gamer", "fotógrafo", "melómana",
    ),
    "en": (
        "teaandtoast", "cyclist", "bookworm", "dev", "foodie", "gamer", "runner", "nurse",
        "teacher", "photog", "hillwalker", "vinyl", "footie", "coffee", "gardener",
    ),
}
TROLL_HANDLES = (
    "el_verdugo", "noticias_reales", "despierta_ya", "truth_hurts", "anon", "user", "patriota",
    "elcriticon", "banter_lord", "notabot", "xX_troll_Xx", "hater", "real_talk", "ironico",
)
# fmt: on

# --- post templates: (language, kind) -> templates ----------------------------------------
POSTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("es", "chatter"): (
        "Acabo de pasarme a {brand}, a ver qué tal va la {product} en {city} {neutral}",
        "Viendo el anuncio nuevo de {brand}, el de la playa. Pegadizo, lo reconozco {neutral}",
        "Hoy toca portabilidad a {brand}. Deseadme suerte",
        "Mi madre lleva con {brand} desde hace diez años y no se plantea cambiar",
        "Comparando tarifas entre {brand} y la competencia. Ya os contaré",
        "Han abierto una tienda de {brand} al lado de casa en {city}",
        "Llevo {n} meses con la {product} de {brand}; de momento, ni frío ni calor",
        "El router de {brand} tiene las lucecitas más brillantes del mundo jajaja {laugh}",
        "Leyendo las condiciones de la nueva tarifa de {brand} en el metro {neutral}",
        "{brand} patrocina el festival de {city} este año, curioso",
        "Hilo: lo que he aprendido tras {n} años cambiando de compañía. Spoiler: ahora estoy en {brand}",
    ),
    ("es", "praise"): (
        "Tengo que decirlo: la {product} de {brand} va genial en {city} {happy}",
        "Llamé a {channel} de {brand} y me lo solucionaron en cinco minutos. ¡Así sí! {happy}",
        "{brand} me ha subido la velocidad sin pagar más, muy contenta {happy}",
        "Cobertura perfecta en plena montaña con {brand}. Increíble {happy}",
        "Me encanta que {brand} no te ate con permanencia",
        "Buenísimo el servicio técnico de {brand}: el técnico vino el mismo día",
        "Gracias {brand}, la portabilidad fue rapidísima {happy}",
        "Cinco años con {brand} y ni una queja. Recomendadísimo",
        "No me lo esperaba, pero la atención de {brand} en la tienda de {city} fue de diez",
    ),
    ("es", "question"): (
        "¿Alguien sabe si {brand} tiene cobertura 5G en {city}?",
        "{brand} ¿cómo cambio la fecha de cobro de la factura?",
        "Pregunta para clientes de {brand}: ¿el roaming en Reino Unido está incluido?",
        "¿Cuánto tarda {brand} en activar la {product}? Llevo {n} días esperando {neutral}",
        "¿Merece la pena la {product} de {brand} o me quedo como estoy?",
        "Hola {brand}, ¿dónde descargo la factura de {month}?",
        "¿Alguien ha probado la eSIM de {brand}? ¿Funciona bien?",
        "¿Sabéis si {brand} cobra por dar de baja una línea?",
        "{brand} ¿tenéis alguna oferta para clientes que ya están con vosotros?",
    ),
    ("es", "complaint"): (
        "{brand} llevo {n} días sin internet en {city} y nadie me da una solución {angry}",
        "Cobertura pésima de {brand} en el centro de {city}. No hay manera",
        "No me gusta nada la nueva tarifa de {brand}: {amount} más al mes sin avisar",
        "Media hora esperando en {channel} de {brand}. Fatal.",
        "{brand} la fibra se cae todas las noches a las diez. ¿Qué pasa? {angry}",
        "Me habéis subido la cuota otra vez, {brand}. No es serio",
        "El técnico de {brand} no se presentó. Tercera vez ya {angry}",
        "{brand} no funciona el 4G en toda la zona de {city} desde esta mañana",
        "No entiendo la factura de {brand}: aparecen conceptos que no he contratado",
        "Pésimo servicio de {brand}, me cuelgan cada vez que llamo {sad}",
        "Qué lento va internet con {brand} hoy, así no hay quien teletrabaje",
        "Nunca más contrato nada con {brand}. Tres semanas para una portabilidad",
    ),
    ("es", "crisis_complaint"): (
        "{brand} me habéis cobrado la factura de {month} DOS veces. {amount} duplicado. ¿Cuándo me lo devolvéis? {angry}",
        "¡A mí también! Cobro duplicado de {brand} en la factura de este mes {angry}",
        "Acabo de mirar el banco: {brand} me ha pasado el recibo dos veces. Por lo que veo somos muchos",
        "Otro cliente de {brand} con la factura duplicada: {amount} x2. Necesito ese dinero para llegar a fin de mes {sad}",
        "{brand} cobro duplicado y en {channel} me dicen que lo devuelven «en 30 días». No me vale",
        "Me ha pasado lo mismo: {brand} me ha cargado dos veces la factura. Inaceptable",
        "{brand} ¿un error informático? El doble cargo me ha dejado la cuenta en números rojos",
        "Confirmo doble cargo de {brand} en la factura de {month}. Llevo {hours} horas intentando hablar con alguien",
        "Pues no era solo yo. {brand} ha duplicado los recibos a un montón de gente",
        "{brand} dad la cara. Cobro duplicado a miles de clientes y ni un comunicado",
        "El banco me ha cobrado comisión por descubierto por vuestro cobro duplicado, {brand}. Quiero que me la abonéis también",
        "Dos cargos de {amount} de {brand} el mismo día. Nadie me explica nada {angry}",
        "No me lo puedo creer, {brand}: factura cobrada dos veces y el chat caído",
    ),
    ("es", "authority"): (
        "Ya he puesto la hoja de reclamaciones en la tienda de {brand} en {city}. Cobro duplicado y ninguna solución",
        "Mañana mismo voy a la oficina de consumo por el cobro duplicado de {brand}",
        "Esto es para llevarlo a la OCU. {brand} cobrando dos veces la factura a sus clientes",
        "He abierto una reclamación en FACUA por el doble cargo de {brand}. Os recomiendo que lo hagáis todos",
        "Denuncia puesta. {brand} no puede quedarse con nuestro dinero así",
        "Si {brand} no devuelve el cobro duplicado en 48 horas: reclamación en consumo y a la OCU",
        "¿Alguien sabe cómo se pone una denuncia en consumo contra {brand} por cobros indebidos?",
    ),
    ("es", "troll"): (
        "{brand} sois unos ladrones y unos inútiles. A ver si cerráis ya",
        "Jajaja {brand} robando a sus clientes, menuda panda de sinvergüenzas {laugh}",
        "Estafadores. {brand} = estafa. Fin.",
        "Normal que os roben, ¿quién en su sano juicio contrata {brand}? {laugh}",
        "Menudos chorizos los de {brand}, a la cárcel todos",
        "{brand} panda de payasos, ni cobrar sabéis {laugh}",
        "Que os den, {brand}. Sois lo peor de lo peor",
    ),
    ("en", "chatter"): (
        "Just switched to {brand}, let's see how the {product} holds up in {city} {neutral}",
        "That new {brand} ad with the kite is stuck in my head {neutral}",
        "Porting my number to {brand} today. Wish me luck",
        "My dad has been with {brand} for years and refuses to even look at other providers",
        "Comparing {brand} with the other networks for a new contract. Will report back",
        "{brand} opened a shop on the high street in {city}",
        "{n} months on {brand} {product}; so far it's fine, nothing special",
        "The {brand} router has the brightest LEDs known to humanity {laugh}",
        "Reading the small print of the new {brand} tariff on the train {neutral}",
        "Apparently {brand} is sponsoring the {city} half marathon this year",
    ),
    ("en", "praise"): (
        "Have to say it: {brand} {product} has been brilliant in {city} {happy}",
        "Rang {brand} {channel} and it was sorted in five minutes. That's how it's done {happy}",
        "{brand} upgraded my speed for free, really pleased {happy}",
        "Full signal halfway up a hill in the Lakes with {brand}. Impressed",
        "Love that {brand} doesn't lock you into a 24-month contract",
        "Engineer from {brand} came the same day. Top service {happy}",
        "Thanks {brand}, the switch was painless {happy}",
        "Five years with {brand} and not a single complaint. Highly recommend",
        "Didn't expect it, but the {brand} shop staff in {city} were lovely",
    ),
    ("en", "question"): (
        "Does anyone know if {brand} has 5G coverage in {city}?",
        "{brand} how do I change the date my bill is taken?",
        "Question for {brand} customers: is EU roaming included?",
        "How long does {brand} take to activate the {product}? It's been {n} days {neutral}",
        "Is the {brand} {product} worth it or should I stay put?",
        "Hi {brand}, where can I download my {month} bill?",
        "Anyone tried the {brand} eSIM? Does it work properly?",
        "Does {brand} charge you for cancelling a line?",
        "{brand} any deals for existing customers or is it new customers only?",
    ),
    ("en", "complaint"): (
        "{brand} {n} days without broadband in {city} and nobody can tell me why {angry}",
        "{brand} signal in central {city} is terrible. Can't even load a map",
        "Not happy at all with the new {brand} prices: {amount} more a month and no warning",
        "Half an hour on hold with {brand} {channel}. Awful.",
        "{brand} the fibre drops every night at ten. What is going on? {angry}",
        "{brand} put my bill up again. Not on",
        "{brand} engineer didn't turn up. Third time now {angry}",
        "{brand} 4G has been down across {city} since this morning",
        "I don't understand my {brand} bill, there are charges I never agreed to",
        "Useless service from {brand}, they hang up every time I call {sad}",
        "{brand} broadband is so slow today, can't work from home like this",
        "Never again with {brand}. Three weeks to port a number",
    ),
    ("en", "crisis_complaint"): (
        "{brand} you've charged my {month} bill TWICE. {amount} taken two times. When do I get it back? {angry}",
        "Me too! Double charged by {brand} this month {angry}",
        "Just checked my bank: {brand} took the direct debit twice. Looks like loads of us",
        "Another {brand} customer double billed: {amount} x2. That's my food shop gone {sad}",
        "{brand} double charge and {channel} says refund in '30 days'. Not good enough",
        "Same here, {brand} charged my bill twice. Unacceptable",
        "{brand} a 'system error'? The double payment has put me into my overdraft",
        "Confirmed: {brand} double charge on the {month} bill. {hours} hours trying to reach someone",
        "So it wasn't just me. {brand} has double billed loads of people",
        "{brand} say something. Thousands double charged and not a word from you",
        "My bank charged me an overdraft fee because of your double charge, {brand}. I want that refunded too",
        "Two payments of {amount} to {brand} on the same day. Nobody can explain it {angry}",
    ),
    ("en", "authority"): (
        "Complaint lodged with Ofcom about the {brand} double charge. Everyone affected should do the same",
        "If {brand} don't refund the double charge by Friday I'm going to the ombudsman",
        "Reported {brand} to trading standards. Taking money twice is not a 'glitch'",
        "Small claims court it is then, {brand}. Double charged and no refund",
        "Citizens Advice says I can escalate the {brand} double charge to the ombudsman after 8 weeks",
        "Has anyone complained to Ofcom about {brand} yet? Double billing is a breach surely",
    ),
    ("en", "troll"): (
        "{brand} bunch of crooks, hope you go bust",
        "lol {brand} robbing its own customers, absolute clowns {laugh}",
        "Scammers. {brand} = scam. End of.",
        "Who even uses {brand}? You deserve it tbh {laugh}",
        "{brand} can't even take money properly, what a joke {laugh}",
        "Useless thieves at {brand}. Shut it down",
    ),
}
# Crisis reactions that are neither a complaint nor an insult: questions and commentary.
CRISIS_POSTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("es", "question"): (
        "¿A alguien más le ha cobrado {brand} dos veces la factura?",
        "¿Sabéis si {brand} va a devolver el cobro duplicado automáticamente?",
        "Clientes de {brand}: ¿os han devuelto ya el doble cargo?",
        "¿{brand} ha dicho algo del cobro duplicado? No encuentro nada",
    ),
    ("es", "chatter"): (
        "Leyendo lo del cobro duplicado de {brand}, menudo lío tienen montado",
        "Lo de {brand} y las facturas duplicadas ya es trending {neutral}",
        "Revisad el banco si sois de {brand}, hay gente con el recibo cobrado dos veces",
        "Menos mal que me cambié de {brand} el mes pasado {neutral}",
    ),
    ("en", "question"): (
        "Has anyone else been charged twice by {brand}?",
        "Will {brand} refund the double charge automatically or do we have to ask?",
        "{brand} customers: has anyone had their double charge refunded yet?",
        "Has {brand} said anything about the double billing? Can't find a statement",
    ),
    ("en", "chatter"): (
        "Reading about the {brand} double billing mess, what a day for their social team",
        "The {brand} double charge thing is trending now {neutral}",
        "Check your bank if you're with {brand}, people are being charged twice",
        "Glad I left {brand} last month {neutral}",
    ),
}
# The post that starts the crisis.
CRISIS_ORIGIN = {
    "es": (
        "{brand} me habéis cobrado la factura de {month} DOS veces ({amount} x2) y en "
        "atención al cliente nadie me lo soluciona. Cobro duplicado y ahora estoy en números "
        "rojos. ¿Esto es normal? {angry}"
    ),
    "en": (
        "{brand} you've charged my {month} bill TWICE ({amount} x2) and customer service can't "
        "sort it. Double charge and now I'm overdrawn. Is this normal? {angry}"
    ),
}
INFLUENCER_POSTS = {
    "es": (
        "Me están llegando decenas de mensajes: {brand} está cobrando la factura de {month} dos "
        "veces a sus clientes. Les he escrito y os cuento. Si os ha pasado, guardad el "
        "justificante del banco y pedid la devolución por escrito. #cobroduplicado"
    ),
    "en": (
        "My inbox is full of this: {brand} is double charging customers for the {month} bill. "
        "I've asked them for a statement. If it happened to you, screenshot your bank app and "
        "put your refund request in writing. #doublecharged"
    ),
}

# --- replies: (language, kind) -> templates -----------------------------------------------
REPLIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("es", "complaint"): (
        "A mí me pasa igual con {brand} desde hace semanas",
        "Lo mismo aquí en {city}. Vaya servicio el de {brand} {angry}",
        "Te entiendo, yo estuve {n} días igual con {brand}",
        "Y no te cogen el teléfono, ¿verdad? Típico de {brand}",
    ),
    ("es", "chatter"): (
        "Prueba a reiniciar el router de {brand}, a mí me lo arregló",
        "Llama temprano por la mañana, en {brand} se espera mucho menos",
        "Por el chat de {brand} suelen contestar antes que por teléfono",
        "Pide que te pasen con el departamento técnico de {brand} directamente",
    ),
    ("es", "question"): (
        "Sí, en {city} hay 5G de {brand} desde hace meses",
        "Creo que se cambia desde el área de cliente de la app de {brand}",
        "Yo lo hice por la app de {brand} y tardó {n} días",
    ),
    ("es", "praise"): (
        "¡Totalmente de acuerdo! Muy contento con {brand} {happy}",
        "Pues yo igual, con {brand} no tengo queja",
    ),
    ("es", "crisis_complaint"): (
        "A mí también, {brand} me ha cobrado {amount} dos veces",
        "Mismo problema con {brand}. ¿Os han dicho algo?",
        "+1, doble cargo de {brand} en la factura de {month} {angry}",
        "Yo ya he pedido la devolución al banco. {brand} ni contesta",
        "¿Cuánto os ha cobrado {brand}? A mí {amount} x2",
        "Igual. {brand} dice que es un error informático y que esperemos",
    ),
    ("es", "troll"): (
        "Jajaja pringados, eso os pasa por ser de {brand} {laugh}",
        "Llorad más, clientes de {brand} {laugh}",
    ),
    ("en", "complaint"): (
        "Same here with {brand} for weeks now",
        "Same in {city}. {brand} service is shocking {angry}",
        "I feel you, I had {n} days of that with {brand}",
        "And they never pick up the phone, do they? Classic {brand}",
    ),
    ("en", "chatter"): (
        "Try restarting the {brand} router, fixed it for me",
        "Ring {brand} first thing in the morning, the queue is much shorter",
        "The {brand} live chat usually answers faster than the phone line",
        "Ask {brand} to put you through to the technical team directly",
    ),
    ("en", "question"): (
        "Yes, {brand} 5G has been live in {city} for months",
        "I think you change it in the {brand} app under account settings",
        "I did it in the {brand} app and it took {n} days",
    ),
    ("en", "praise"): (
        "Totally agree! Really happy with {brand} {happy}",
        "Same, no complaints about {brand} here",
    ),
    ("en", "crisis_complaint"): (
        "Me too, {brand} took {amount} twice",
        "Same problem with {brand}. Has anyone heard back?",
        "+1, double charged by {brand} on the {month} bill {angry}",
        "I've asked my bank to reverse it. {brand} won't even reply",
        "How much did {brand} take from you? {amount} x2 for me",
        "Same. {brand} says it's a system error and to wait",
    ),
    ("en", "troll"): (
        "lol that's what you get for being with {brand} {laugh}",
        "Cry more, {brand} customers {laugh}",
    ),
}

# --- Reddit titles: (language, kind) -> titles --------------------------------------------
REDDIT_TITLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("es", "chatter"): (
        "Experiencia con {brand} tras {n} meses",
        "{brand} o la competencia en {city}",
        "Me he pasado a {brand}, os cuento",
    ),
    ("es", "praise"): ("Bien por {brand}, la verdad", "Sorprendido con la atención de {brand}"),
    ("es", "question"): (
        "¿Merece la pena {brand}?",
        "Pregunta sobre la factura de {brand}",
        "¿Cobertura de {brand} en {city}?",
    ),
    ("es", "complaint"): (
        "Problemas con la fibra de {brand} en {city}",
        "{brand} me ha subido la tarifa sin avisar",
        "Imposible hablar con {brand}",
    ),
    ("es", "crisis_complaint"): (
        "¿A alguien más le ha cobrado {brand} dos veces la factura?",
        "{brand} cobro duplicado: megahilo",
    ),
    ("es", "authority"): ("Cómo reclamar a {brand} el cobro duplicado (OCU, consumo, FACUA)",),
    ("en", "chatter"): (
        "{brand} after {n} months - my experience",
        "{brand} vs the big networks in {city}?",
        "Switched to {brand}, AMA",
    ),
    ("en", "praise"): ("Credit where it's due: {brand}", "Pleasantly surprised by {brand}"),
    ("en", "question"): (
        "Is {brand} worth it?",
        "Question about my {brand} bill",
        "{brand} coverage in {city}?",
    ),
    ("en", "complaint"): (
        "{brand} broadband keeps dropping in {city}",
        "{brand} put my price up mid-contract",
        "Can't get through to {brand}",
    ),
    ("en", "crisis_complaint"): (
        "Anyone else double charged by {brand} this month?",
        "{brand} double billing megathread",
    ),
    ("en", "authority"): ("Double charged by {brand} - Ofcom or ombudsman?",),
}

# --- news articles for the alert feeds: (language, kind) -> (title, summary) --------------
ARTICLES: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("es", "chatter"): (
        (
            "{brand} lanza una nueva tarifa de fibra y móvil",
            "La operadora {brand} presenta una oferta convergente con fibra de 1 Gb y datos ilimitados.",
        ),
        (
            "{brand} amplía su red 5G a {city}",
            "La compañía asegura que la cobertura llegará al 90% de la ciudad antes de fin de año.",
        ),
        (
            "Las operadoras pequeñas ganan cuota: {brand}, entre las que más crecen",
            "Los datos de portabilidad de {month} sitúan a {brand} entre las marcas con más altas.",
        ),
    ),
    ("es", "praise"): (
        (
            "{brand}, premiada por su atención al cliente",
            "Un estudio de satisfacción sitúa a {brand} entre las operadoras mejor valoradas.",
        ),
    ),
    ("es", "complaint"): (
        (
            "Caída de la red de {brand} en {city}",
            "Usuarios de {brand} reportan cortes de fibra y móvil durante varias horas.",
        ),
        (
            "{brand} sube sus tarifas a partir de {month}",
            "La subida será de hasta {amount} al mes, según ha comunicado {brand} a sus clientes.",
        ),
    ),
    ("en", "chatter"): (
        (
            "{brand} launches new SIM-only deals",
            "{brand} has unveiled new SIM-only plans with unlimited data for UK customers.",
        ),
        (
            "{brand} expands 5G coverage to {city}",
            "The operator says most of the city will be covered by the end of the year.",
        ),
    ),
    ("en", "praise"): (
        (
            "{brand} tops customer service survey",
            "Smaller networks including {brand} scored highest for complaint handling.",
        ),
    ),
    ("en", "complaint"): (
        (
            "{brand} outage hits customers in {city}",
            "Broadband and mobile customers of {brand} reported losing service for several hours.",
        ),
        (
            "{brand} to raise prices from {month}",
            "{brand} customers face increases of up to {amount} a month.",
        ),
    ),
}
CRISIS_ARTICLES: tuple[tuple[float, str, str, str, str], ...] = (
    # (minutes after the first complaint, language, kind, title, summary)
    (
        34,
        "es",
        "crisis_complaint",
        "Clientes de {brand} denuncian cobros duplicados en su factura",
        "Decenas de usuarios de {brand} aseguran en redes sociales que la operadora les ha "
        "cobrado dos veces la factura de {month}. La compañía no ha dado explicaciones.",
    ),
    (
        52,
        "es",
        "authority",
        "FACUA y la OCU piden a {brand} que devuelva de inmediato los cobros duplicados",
        "Las asociaciones de consumidores recomiendan presentar una hoja de reclamaciones y "
        "acudir a la oficina de consumo si {brand} no devuelve el importe.",
    ),
    (
        61,
        "en",
        "crisis_complaint",
        "{brand} customers hit by double billing error",
        "Customers of {brand} say the operator took their {month} bill twice, leaving some "
        "overdrawn. The company has not commented.",
    ),
    (
        83,
        "en",
        "authority",
        "Ofcom urged to act over {brand} double charges",
        "Consumer groups say affected {brand} customers can complain to the ombudsman and "
        "contact trading standards if refunds are not made promptly.",
    ),
)
NEWS_SITES = {
    "es": (
        ("telecomhoy.es", "Telecom Hoy"),
        ("diariodelasredes.es", "Diario de las Redes"),
        ("consumidoresaldia.es", "Consumidores al Día"),
        ("elmovilista.es", "El Movilista"),
        ("noticiasde{city_slug}.es", "Noticias de {city}"),
    ),
    "en": (
        ("thebroadbandpost.co.uk", "The Broadband Post"),
        ("ukmobilewatch.co.uk", "UK Mobile Watch"),
        ("moneysense-daily.co.uk", "MoneySense Daily"),
        ("{city_slug}chronicle.co.uk", "{city} Chronicle"),
    ),
}
YOUTUBE_VIDEOS = (
    # (minutes before the world starts, title)
    (60 * 24 * 40, "Brisa | Nueva fibra de 1 Gb: así se instala"),
    (60 * 24 * 12, "Brisa UK | Switching made easy"),
    (60 * 24 * 3, "Brisa | Anuncio verano: la cometa"),
)
