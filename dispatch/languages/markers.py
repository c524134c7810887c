"""Evidence tables for language detection: Unicode script ranges, distinctive letters and
small marker-word lists.

Why they exist: langdetect knows 55 languages and, given text in a language it lacks,
still answers one it knows with near-certain probability (Haitian Creole comes back as
French or Dutch, Kinyarwanda as Swahili, Serbian Cyrillic as Macedonian). These tables
let detect.py (a) name a language from its script alone where the script is the
language's own, (b) recognise languages langdetect lacks from a handful of frequent,
distinctive words, and (c) check that a langdetect answer is backed by that language's
own common words before calling it confident.

Word lists are matched after `normalize.fold` (so typing without accents still counts)
unless the word starts with "=" (matched exactly, for pairs like Croatian "što" and
Serbian "šta" that differ only by an accent-like letter). Lists favour words that do
NOT also occur in a big neighbouring language; a few overlaps are fine because the
decision compares scores, never a single hit.
"""

from __future__ import annotations

# Data tables laid out by hand, several entries a line: the formatter would spread them one per line.
# fmt: off

# --------------------------------------------------------------------------- scripts

# (first code point, last code point, script). Looked up with bisect on the starts.
SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "Latin"), (0x0061, 0x007A, "Latin"), (0x00C0, 0x024F, "Latin"),
    (0x0250, 0x02AF, "Latin"), (0x0370, 0x03FF, "Greek"), (0x0400, 0x052F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"), (0x0590, 0x05FF, "Hebrew"), (0x0600, 0x06FF, "Arabic"),
    (0x0700, 0x074F, "Syriac"), (0x0750, 0x077F, "Arabic"), (0x0780, 0x07BF, "Thaana"),
    (0x07C0, 0x07FF, "NKo"), (0x08A0, 0x08FF, "Arabic"), (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"), (0x0A00, 0x0A7F, "Gurmukhi"), (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B00, 0x0B7F, "Oriya"), (0x0B80, 0x0BFF, "Tamil"), (0x0C00, 0x0C7F, "Telugu"),
    (0x0C80, 0x0CFF, "Kannada"), (0x0D00, 0x0D7F, "Malayalam"), (0x0D80, 0x0DFF, "Sinhala"),
    (0x0E00, 0x0E7F, "Thai"), (0x0E80, 0x0EFF, "Lao"), (0x0F00, 0x0FFF, "Tibetan"),
    (0x1000, 0x109F, "Myanmar"), (0x10A0, 0x10FF, "Georgian"), (0x1100, 0x11FF, "Hangul"),
    (0x1200, 0x139F, "Ethiopic"), (0x13A0, 0x13FF, "Cherokee"), (0x1400, 0x167F, "Canadian"),
    (0x1780, 0x17FF, "Khmer"), (0x1800, 0x18AF, "Mongolian"), (0x19E0, 0x19FF, "Khmer"),
    (0x1C50, 0x1C7F, "OlChiki"), (0x1C80, 0x1C8F, "Cyrillic"), (0x1C90, 0x1CBF, "Georgian"),
    (0x1E00, 0x1EFF, "Latin"), (0x1F00, 0x1FFF, "Greek"), (0x2C60, 0x2C7F, "Latin"),
    (0x2D00, 0x2D2F, "Georgian"), (0x2D30, 0x2D7F, "Tifinagh"), (0x2D80, 0x2DDF, "Ethiopic"),
    (0x2DE0, 0x2DFF, "Cyrillic"), (0x3040, 0x309F, "Kana"), (0x30A0, 0x30FF, "Kana"),
    (0x3100, 0x312F, "Han"), (0x3130, 0x318F, "Hangul"), (0x31F0, 0x31FF, "Kana"),
    (0x3400, 0x4DBF, "Han"), (0x4E00, 0x9FFF, "Han"), (0xA500, 0xA63F, "Vai"),
    (0xA640, 0xA69F, "Cyrillic"), (0xA720, 0xA7FF, "Latin"), (0xA800, 0xA82F, "SylotiNagri"),
    (0xA8E0, 0xA8FF, "Devanagari"), (0xA960, 0xA97F, "Hangul"), (0xA9E0, 0xA9FF, "Myanmar"),
    (0xAA60, 0xAA7F, "Myanmar"), (0xAB00, 0xAB2F, "Ethiopic"), (0xAB30, 0xAB6F, "Latin"),
    (0xAC00, 0xD7AF, "Hangul"), (0xD7B0, 0xD7FF, "Hangul"), (0xF900, 0xFAFF, "Han"),
    (0xFB13, 0xFB17, "Armenian"), (0xFB1D, 0xFB4F, "Hebrew"), (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"), (0xFF21, 0xFF3A, "Latin"), (0xFF41, 0xFF5A, "Latin"),
    (0xFF66, 0xFF9F, "Kana"), (0x10D00, 0x10D3F, "HanifiRohingya"), (0x20000, 0x2FA1F, "Han"),
)

# Scripts that name their language by themselves: a few letters are enough.
SELF_NAMING: dict[str, str | None] = {
    "Gurmukhi": "pan", "Gujarati": "guj", "Oriya": "ory", "Tamil": "tam", "Telugu": "tel",
    "Kannada": "kan", "Malayalam": "mal", "Sinhala": "sin", "Thai": "tha", "Lao": "lao",
    "Khmer": "khm", "Georgian": "kat", "Armenian": "hye", "Hangul": "kor", "Greek": "ell",
    "Kana": "jpn", "Vai": "vai", "SylotiNagri": "syl", "HanifiRohingya": "rhg",
    "Mongolian": "mon",
    # Scripts of languages not in the catalog: say so rather than guess.
    "Thaana": None, "Cherokee": None, "Canadian": None, "OlChiki": None,
}

# Scripts shared by several catalog languages with no way to tell them apart here:
# the first is returned, never as confident.
SHARED_SCRIPT: dict[str, str] = {
    "NKo": "emk",        # N'Ko writes Maninka, Bambara, Dyula and Mandinka
    "Tifinagh": "tzm",   # Tamazight, Tachelhit, Tarifit, Kabyle
    "Syriac": "aii",     # Assyrian and Chaldean Neo-Aramaic
}

# --------------------------------------------------------------- letters in a script

ASSAMESE_LETTERS = frozenset("ৰৱ")
KAREN_LETTERS = frozenset("\u1060\u1061\u1062\u1063\u1064")
SHAN_LETTERS = frozenset(chr(c) for c in range(0x1075, 0x108E))
CANTONESE_CHARS = frozenset("嘅唔係咗佢哋冇乜嘢啲喺咁嚟睇俾畀咩嗰噉㗎囉喎啱攞諗")

CYRILLIC = {
    "srp": frozenset("ђћ"),
    "mkd": frozenset("ѓќѕ"),
    "ukr": frozenset("їєґ"),
    "che": frozenset("ӏӀ"),
    "tgk": frozenset("ҷӣӯ"),
    "kaz": frozenset("әұ"),
    "kaz_kir_mon": frozenset("өү"),
    "kir": frozenset("ң"),
    "turkic": frozenset("қғҳ"),
    "bel": frozenset("ў"),
    "ru_only": frozenset("ыэё"),
    "sr_mk": frozenset("јљњџ"),
}

ARABIC = {
    "uig": frozenset("\u06c7\u06c8\u06cb"),                                  # ۇ ۈ ۋ
    "ckb": frozenset("\u0695\u06b5\u06ce"),                                  # ڕ ڵ ێ
    "pus": frozenset("\u067c\u0689\u0693\u0696\u069a\u06ab\u06bc\u0681\u0685\u06cd"),
    "snd": frozenset("\u0684\u067a\u067d\u0680\u06a6\u0683\u0687\u068a\u068c\u068d\u0699\u06bb\u06b3\u06b1"),
    "kas": frozenset("\u0672\u06c4\u0620"),                                  # ٲ ۄ ؠ
    "urd": frozenset("\u0679\u0688\u0691\u06ba\u06d2\u06be\u06c1"),          # ٹ ڈ ڑ ں ے ھ ہ
    "persianate": frozenset("\u06cc\u06a9\u067e\u0686\u0698\u06af"),         # ی ک پ چ ژ گ
    "ara": frozenset("\u064a\u0643\u0629\u0649"),                            # ي ك ة ى
}

YIDDISH_LETTERS = frozenset("\u05f0\u05f1\u05f2\ufb1f\ufb2e\ufb2f")         # װ ױ ײ ײַ אַ אָ
TIGRINYA_LETTERS = frozenset("\u12a3" + "".join(chr(c) for c in range(0x12b8, 0x12bf))
                             + "".join(chr(c) for c in range(0x1250, 0x1259)))  # ኣ ኸ.. ቐ..
AMHARIC_LETTERS = frozenset("\u12a0")                                        # አ

# Decisive letters in Latin-script text: (language, letters, weight per token).
LATIN_LETTERS: tuple[tuple[str, frozenset[str], float], ...] = (
    ("aze", frozenset("əƏ"), 2.0),
    ("tuk", frozenset("ňŇ"), 2.0),
    ("mlt", frozenset("ħċġĦĊĠ"), 2.0),
    ("isl", frozenset("þðÞ"), 2.0),
    ("yor", frozenset("ẹṣẸṢ"), 1.0),
    ("ibo", frozenset("ịụṅỊỤ"), 1.5),
    ("hau", frozenset("ƙƘ"), 2.0),
    ("hau", frozenset("ɗɓ"), 0.5),
    ("ful", frozenset("ɗɓ"), 0.5),
    ("ewe", frozenset("ɖƒʋ"), 1.5),
    ("ewe", frozenset("ɣ"), 0.5),
    ("twi", frozenset("ɛɔƐƆ"), 0.5),
    ("kik", frozenset("ĩũ"), 1.0),
    ("grn", frozenset("ẽỹ"), 2.0),
    ("grn", frozenset("ĩũ"), 0.5),
    ("cha", frozenset("å"), 0.3),
)

# --------------------------------------------------------------- marker words (Latin)

_LATIN_MARKERS_RAW: dict[str, str] = {
    "hat": "mwen nou pa ak nan pou ki gen ap pral bezwen konnen kounye tanpri mèsi anpil "
           "kijan kòman vle paske lakay pitit ede isit rele kote moun entèprèt tradiktè "
           "kreyòl ayisyen yon li lapolis rete liy souple franse m'ap pale",
    "kea": "nha bu sta ku kel dja kusa kuza fla odja djuda obrigadu pamodi sima txeu "
           "mininu nhos kriolu nu sabi",
    "pov": "kuma misti pabia garandi tarbadju djintis bianda kriol",
    "mfe": "mo bizin ena zot kouma zis lakaz bonzour enn mersi morisien",
    "crs": "annan seselwa kot",
    "pap": "mester danki awor kiko unda hende kier tambe papiamentu nesesita",
    "srn": "wani taki grantangi tangi luku sma dyaso fu",
    "jam": "yuh unu wah nuh cyaan inna seh fi pickney likkle gwaan weh mek waan deh bwoy "
           "gyal nuff",
    "kri": "wetin tenki pikin padi kushe",
    "tpi": "bilong olsem tenkyu wanpela stap pikinini tokples",
    "wol": "dama dafa nga bëgg xam waaw déedéet dañu jërëjëf nanga maa yaa moo ñu ñoo "
           "lii loolu fii wax amul dégg sama naka rekk wolof",
    "ful": "ɗum hono mbaɗa yiɗi faamu haala waawi alaa woni kanko ngam wonaa miɗo "
           "jaraama ballal pulaar fulfulde ndee",
    "mnk": "nte ite lafi kaŋo maŋ abaraka kuwo dookuu ñinaa jaabi tambi mandinka",
    "bam": "bamanankan barika sogoma dɔrɔn",
    "twi": "mepa kyɛw medaase mepɛ meyɛ ɔkyerɛaseni mmoa nnipa daabi aane ɛhe ɛdeɛn "
           "wopɛ twi kasa",
    "ewe": "akpe kuku kple nye eʋegbe meɖe medi nɔvi",
    "yor": "jọwọ nílò àti ẹ̀yin yorùbá onítumọ̀ ìrànlọ́wọ́ èmi ọmọ báwo dúpẹ́ "
           "sọ̀rọ̀",
    "ibo": "biko achọrọ chọrọ nke anyị gị ebe nwere ihe onye kedụ daalụ ndewo asụsụ "
           "igbo enyemaka",
    "hau": "zan kuma yana suna wannan akwai babu sannu nagode fassara taimako yanzu "
           "hausa bukatar rauni mai",
    "kin": "ndashaka kandi murakoze cyane umuntu abantu ubufasha mfasha amahoro muraho "
           "yego oya kuko ariko ntabwo ikinyarwanda umusemuzi ndakwinginze ibyo",
    "run": "cane ivyo ikirundi ndagusavye mwaramutse ego canke mbega vyose",
    "lug": "nze ggwe nnyo webale njagala ssebo nnyabo okuyamba omuntu luganda mwattu "
           "bambi okwogera",
    "lin": "ngai biso bino bango mingi nalingi nazali ozali malamu mbote matondo lisusu "
           "pona boye mpe lingala nayebi mposa nabondeli",
    "zul": "ngiyabonga ukuthi ngicela sawubona yebo futhi ngoba lapha manje isizulu "
           "ngidinga umhumushi usizo angazi",
    "xho": "ndiyabulela enkosi molo ndicela ndifuna ukuba ngoku apha umntu isixhosa "
           "andazi uncedo itoliki kwaye nceda",
    "sna": "ndinoda ndatenda mhoro ndiri zvakanaka kwete hongu munhu vanhu uye ndapota "
           "chishona rubatsiro muturikiri",
    "nya": "ndikufuna zikomo chonde bwanji ndipo anthu munthu thandizo chichewa",
    "orm": "galatoomi maaloo afaan oromoo keessa irratti namni yeroo gargaarsa barbaada "
           "barbaachisa isaan akka jira jiru hiiktuu",
    "mlg": "ny ary dia izaho ianao misaotra azafady tsy amin mba aho izy teny malagasy "
           "mila olona manampy mpandika fanampiana",
    "luo": "adwaro ahinya erokamano nyalo kony dhok dholuo jaloko gima nyiso",
    "kik": "ngwenda mũndũ wega nĩngũ ũguo thiĩ gĩkũyũ ndagũthaitha ũteithio",
    "que": "ñuqa noqa kani manam imayna allin runasimi yanapay yanapawanki rimay kanki "
           "kachkan paykuna ñuqanchik sulpayki tukuy chaymanta atinki munani munanki "
           "allinllachu yachani rimaq",
    "qvi": "ñuka alli shimi yupaychani kichwa kashpa kanpak rimanki rimani mashi "
           "imanalla",
    "aym": "naya jumax jupa jiwasa kamisaki waliki aski uka janiw jisa yatiña arsu "
           "jallalla yuspagara yuspajara aymara munta yanapt'ita",
    "grn": "aipota ikatu ndaje avei mba'e ñe'ẽ chéve ndéve upéi ñande pende peteĩ "
           "aguyjevete mba'éichapa ha'e rehe guarani ndaikatúi",
    "nhe": "nehua nehhua newa tehua yehua tlen nican quena tlazohcamati tlasohkamati "
           "nechpalehui nechpalewi axcan nochi campa quemah ahmo inin inon ipan tlacatl "
           "calli macehualli masehualli tlahtolli tlajtolli nicnequi niknequi cualli "
           "kuali notoca motoca nehuatl tehuatl nahuatl",
    "mix": "tu'un savi ñuu ndiʼi ñayiu kuu yo'o nda'a xa'a ka'an",
    "quc": "rech jas utz maltyox maltiox k'iche' tzij q'ij nuwach kinch'aw "
           "ajtzij nuk'ux",
    "mam": "chjonte chjonta ayin a'ye tzul nchin tu'n kyi' ntzanla",
    "cak": "matyox yin kaqchikel nkatzijon",
    "kek": "bantiox laa'in q'eqchi' ink'a'",
    "ceb": "nimo unsa dili kaayo naa kini kana ug nako imong akong asa karon palihug "
           "bisaya maayong sinultian",
    "ilo": "ken siak diak agyamanak kayat isuna daytoy ania apay adda awan ditoy kaasi "
           "maysa ilokano pangngaasi mabalin",
    "hil": "sang kag indi gid subong hambal ilonggo hiligaynon bulig palihog nagahambal",
    "war": "han ngan maupay karuyag waray gud",
    "pam": "ing ning nanu dakal keni ngeni buri kaku kapampangan",
    "bik": "dai mabalos digdi ngunyan bikol",
    "cha": "håfa adai guåhu hågu malago' ma'åse' fino' chamoru yu'os fabot",
    "smo": "faamolemole fa'amolemole faafetai fa'afetai talofa lenei fesoasoani gagana "
           "samoa manaʻo lo'o faamatala tagata",
    "ton": "ʻoku 'oku kataki fakamolemole fiemaʻu tokoni hoku ʻeku",
    "fij": "vinaka bula yalovinaka vosa vakaviti iko tamata kerei vukei",
    "hmn": "kuv koj nws peb lawv yog thiab tsis muaj xav hais lus hmoob ntawm nyob "
           "txhais neeg pab ntau qhov txog kev",
    "cnh": "kei lawng bawmh holh ding zei tuah khuazei pakhat laiholh",
    "kac": "chyeju jinghpaw kabu hpe mung myit",
    "jav": "kowe iki iku sampeyan matur nuwun nggih kula panjenengan arep karo piye "
           "opo mboten sugeng jawa",
    "msa": "boleh sila kerana mahu awak tak nak kat ialah betul cakap faham jurubahasa "
           "encik puan melayu hendak",
    "ind": "bisa mau nggak gak saja paham bilang karena penerjemah banget sih dong",
    "aze": "deyil lazımdır xahiş edirəm tərcüməçi mənə yox üçün azərbaycan bilirəm "
           "danışıram",
    "tuk": "däl terjimeçi haýyş edýärin türkmen nirede bilýärin gepleýärin",
    "uzb": "bilan uchun kerak menga tarjimon iltimos rahmat emas yo'q qanday qayerda "
           "nima o'zbek gapiraman bilmayman yordam",
    "kmr": "ez ji bi xwe çawa spas kerema heye tune dixwazim wergêr alîkarî kurdî "
           "kurmancî nizanim dikarim hûn wî",
    "eus": "eta behar dut naiz zara eskerrik asko mesedez euskara euskaraz hau hori "
           "baina ere dago zer nola itzultzaile laguntza daukat",
    "glg": "moito grazas unha dunha cunha xa polo pola vostede xente galego axuda teño "
           "fillo filla",
    "mlt": "jien huwa hija aħna għandi bżonn grazzi jekk jogħġbok nitkellem malti "
           "għajnuna mhux",
    "gle": "agus níl dom orm liom ateangaire thoil raibh maith agat conas dhuit gaeilge "
           "bhfuil teastaíonn",
    "isl": "ég þú að ekki túlk túlki takk vinsamlegast hjálp þarf íslenska ertu",
    "lad": "ke komo mozotros vozotros avlar avla djente djudeo kero grasias kale aki "
           "akel kaza djudezmo ladino ermozo",
    "rom": "kamav šukar manuš romani romanes čhib palikerav nais džanav dikhav",
    "srp": "mleko reka lepo hteo htela vreme gde deca dete uvek hleb kafa hiljadu "
           "prevodilac razumem srpski videti nedelja mesto devojka ovde =šta",
    "hrv": "tko =što tisuća kruh kava vrijeme gdje djeca dijete uvijek lijepo rijeka "
           "mlijeko trebam prevoditelj prevoditelja razumijem hrvatski tjedan mjesto "
           "djevojka ovdje kazalište kolodvor vlak glazba",
    "bos": "kahva hljeb bosanski sedmica =šta hiljadu gdje djeca vrijeme ovdje "
           "razumijem",
    "cnr": "crnogorski =śutra =đe",
}

# The Mayan family is written with glottal apostrophes (k' q' tz' ch' b' t'); which of
# the twenty-odd languages a text is in needs a person, so these are always confirmed.
MAYAN = ("quc", "mam", "kjb", "cak", "kek", "knj", "tzj", "cac", "ixl", "poh", "acr",
         "yua", "tzo", "tzh", "ctu")

# Languages that writing alone cannot tell from a close sibling: always confirm.
ALWAYS_CONFIRM = frozenset({
    "hrv", "srp", "bos", "cnr",      # one standard written four ways, Latin script
    "fas", "prs",                    # Persian / Dari
    "que", "qvi", "aym",             # Andean languages
    "kin", "run",                    # mutually intelligible
    "twi", "fat",                    # Akan
    "msa", "ind",                    # Malay / Indonesian
    "mfe", "crs", "lou",             # French creoles close to each other and to Haitian
    "kea", "pov",                    # Portuguese creoles
    "jam", "kri", "tpi",             # English creoles
    "nhe", "mix",                    # one code standing for many varieties
    *MAYAN,
})

# ----------------------------------------------------- common words of langdetect's languages

# The most frequent words of each Latin-script language langdetect knows. A langdetect
# answer for text that contains almost none of them is a guess, not a detection.
_SUPPORT_RAW: dict[str, str] = {
    "en": "the a an and is are to of in i you it that he she we they my your for on with "
          "not please need this was be have do me can what where help am here there",
    "es": "el la los las de que y en un una es no por para con mi me se lo su yo favor "
          "necesito está estoy hay qué dónde ayuda usted tengo muy del al habla",
    "fr": "le la les de des du et est je vous un une que qui pas ne il elle nous pour dans "
          "avec mon ma ce sur suis ai besoin plaît merci aide où au une parle",
    "pt": "o a os as de do da que e é um uma não eu você por para com em no na meu minha "
          "preciso favor obrigado obrigada está estou ajuda onde ele ela fala",
    "it": "il la lo i gli le di che e è un una non io per con in mi sono ho bisogno aiuto "
          "grazie dove favore lei questo del della parla",
    "de": "der die das und ist ich nicht ein eine zu mit sie es in den dem bitte brauche "
          "hilfe wo mein meine sind haben habe wir danke einen spricht",
    "nl": "de het een en is ik niet van te dat die in je u met op voor zijn heb nodig "
          "alstublieft alsjeblieft hulp waar mijn wij bedankt spreek",
    "sv": "och att det är jag en ett inte på i med som för har du vi min behöver hjälp "
          "tack var den kan talar",
    "no": "og å det er jeg en et ikke på i med som for har du vi min trenger hjelp takk "
          "hvor den kan snakker",
    "da": "og at det er jeg en et ikke på i med som for har du vi min brug hjælp tak hvor "
          "den kan taler",
    "fi": "ja on en ei minä sinä hän me se että tarvitsen apua kiitos missä olen tulkki "
          "tulkin voitteko kanssa mutta tämä",
    "et": "ja on ei ma mina sa sina ta me see et vajan abi aitäh kus olen tõlk tõlki palun "
          "kas aga",
    "pl": "i w nie to jest się na z że do ja jestem mam potrzebuję pomocy proszę dziękuję "
          "gdzie tłumacza mój moja jak co czy pan pani",
    "cs": "a je to v na se že ne s z já jsem mám potřebuji pomoc prosím děkuji kde "
          "tlumočníka můj moje jak co",
    "sk": "a je to v na sa že nie s z ja som mám potrebujem pomoc prosím ďakujem kde "
          "tlmočníka môj moja ako čo",
    "sl": "in je to v na se da ne s z jaz sem imam potrebujem pomoč prosim hvala kje "
          "tolmača moj moja kako kaj",
    "hr": "i je u na se da ne s za ja sam imam trebam treba pomoć molim hvala gdje gde "
          "prevoditelja prevodioca moj moja kako što šta li to",
    "ro": "și este în de la nu un o eu sunt am nevoie ajutor vă rog mulțumesc unde pe cu "
          "mea meu ce că",
    "hu": "a az és nem van egy hogy én vagyok kell segítség kérem köszönöm hol tolmács "
          "tolmácsra szükségem is ez",
    "lt": "ir yra ne aš esu man reikia pagalbos prašau ačiū kur vertėjo mano kaip kas tai "
          "su į",
    "lv": "un ir ne es esmu man vajag vajadzīgs palīdzība lūdzu paldies kur tulks tulku "
          "mans mana kā kas tas ar uz",
    "tr": "ve bir bu için ben sen o değil var yok bana lazım yardım lütfen teşekkür "
          "nerede tercüman benim ne nasıl mi da de ihtiyacım",
    "sq": "dhe është në një unë jam kam nevojë ndihmë ju lutem faleminderit ku përkthyes "
          "im ime si çfarë për me nuk të e",
    "af": "die en is ek nie het van in te dat jy my asseblief dankie hulp waar nodig tolk",
    "cy": "y yr a ac mae yn i o dw dwi ddim chi ti diolch ble os gwelwch dda cymorth "
          "angen",
    "id": "saya tidak ini itu dan yang di ke dari untuk dengan apa anda kamu tolong terima "
          "kasih butuh perlu bisa penerjemah ada mau",
    "tl": "ang ng sa ako ikaw mga na ay hindi po kailangan ko mo ito salamat tulong saan "
          "siya kami tayo namin ninyo lang ba at may isang",
    # Short Bantu function words (na ya wa ni za la) are left out: Lingala, Kinyarwanda
    # and others share them and langdetect already calls those texts Swahili.
    "sw": "kwa katika hii mimi wewe yeye sisi nina ninahitaji msaada tafadhali asante "
          "wapi mkalimani kuwa hapana ndiyo sana yangu wangu wake huyu hapa kwamba "
          "lakini pia au",
    "so": "waxaan waa iyo ku ka u la aan ma qof caawimaad fadlan mahadsanid xaggee "
          "turjubaan rabaa baahanahay haa maya in ayaa",
    "vi": "tôi bạn là và của có không một cần giúp xin cảm ơn ở đâu người thông dịch được "
          "này cho với anh chị",
    "ca": "el la els les de que i a en un una és no per amb jo em meu meva necessito si us "
          "plau ajuda gràcies on està sóc",
}


def _compile(raw: dict[str, str]) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """id -> (words matched after folding, words matched exactly)."""
    from dispatch.languages.normalize import fold

    out: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for key, words in raw.items():
        folded: set[str] = set()
        exact: set[str] = set()
        for word in words.split():
            if word.startswith("="):
                exact.add(word[1:].casefold())
            else:
                f = fold(word).replace(" ", "")
                if f:
                    folded.add(f)
        out[key] = (frozenset(folded), frozenset(exact))
    return out


LATIN_MARKERS = _compile(_LATIN_MARKERS_RAW)
SUPPORT_WORDS = _compile(_SUPPORT_RAW)

# ------------------------------------------------------------ marker words (other scripts)

DEVANAGARI_MARKERS: dict[str, frozenset[str]] = {
    "nep": frozenset("छ छु छौ छन् हो मेरो तपाईं तपाईंलाई मलाई चाहिन्छ गर्नुहोस् छैन भयो "
                     "हुनुहुन्छ पनि गर्न सक्नुहुन्छ नेपाली दोभाषे यो त्यो हामी हामीलाई "
                     "कहाँ धन्यवाद".split()),
    "hin": frozenset("है हैं मैं मुझे का की नहीं चाहिए और आप आपको हम यह वह में से था थी "
                     "रहा रही हिंदी हिन्दी दुभाषिया दुभाषिए मदद बात क्या".split()),
    "mar": frozenset("आहे आहेत मला आणि नाही तुम्ही मी आम्ही हवा हवी हवे करा मराठी दुभाषी "
                     "मदत पाहिजे आपण काय".split()),
    "bho": frozenset("बा बानी हमरा रउआ बाटे खातिर भोजपुरी चाहीं केहू".split()),
    "mai": frozenset("अछि छी अहाँ हमरा मैथिली छथि केँ".split()),
    "kok": frozenset("आसा म्हाका तुमी कोंकणी हांव".split()),
}
NEPALI_SUFFIXES = ("लाई", "हरू", "हरु")

ARABIC_MARKERS: dict[str, frozenset[str]] = {
    "urd": frozenset("ہے ہیں میں کے کی کا اور نہیں مجھے آپ کو سے پر ضرورت چاہیے ترجمان".split()),
    "fas": frozenset("است را این آن برای که از به با نیست هست شما ما دارم میخواهم "
                     "می‌خواهم لطفا لطفاً کمک مترجم".split()),
    "prs": frozenset("استم استید استی استین".split()),
    "ara": frozenset("في من على أنا أريد مترجم هذا هذه التي الذي هل لا نعم إلى عن "
                     "مساعدة أحتاج من فضلك".split()),
}

HEBREW_MARKERS: dict[str, frozenset[str]] = {
    "yid": frozenset("איך איז און דער די דאס ניט נישט מיט פון אויף זיך מיר דו ער זי זיי "
                     "האב האָב וויל דארף דאַרף א אַ ביטע יידיש ייִדיש שפראך דאלמעטשער "
                     "העלפן גוט וואס ווי נאך נאָך".split()),
    "heb": frozenset("של את אני זה זאת לא הוא היא אנחנו צריך צריכה עם על מה יש אין "
                     "בבקשה מתורגמן עברית אתה שלי כן גם כי אם הם הזה עזרה רוצה מדבר "
                     "מדברת".split()),
}

ETHIOPIC_MARKERS: dict[str, frozenset[str]] = {
    "amh": frozenset("ነው እኔ አለ አለኝ እባክዎ እባክህ እባክሽ አስተርጓሚ ያስፈልገኛል እፈልጋለሁ ምን "
                     "ናቸው ነበር እንደ ላይ ውስጥ አማርኛ እና ይህ".split()),
    "tir": frozenset("እዩ ኣሎ ኣነ ኣብ ዘሎ ንስኻ ከም ምስ እየ ኣይ ብኽብረትኩም ተርጓሚ የድልየኒ ትግርኛ "
                     "እዚ እሞ ኣሎኒ ይደሊ".split()),
    "tig": frozenset("ህቱ ሀለ ትግሬ ሕድ".split()),
}

TIBETAN_MARKERS: dict[str, frozenset[str]] = {
    "dzo": frozenset("ཨིན ཨིནམ ཡོདཔ མེདཔ ལུ བཏུབ འབད རྫོང ཁ".split()),
    "bod": frozenset("ཡིན རེད འདུག བོད སྐད ཁྱེད རང ཐུགས རྗེ".split()),
}

CYRILLIC_SR_MK: dict[str, frozenset[str]] = {
    "srp": frozenset("је сам није ће шта у молим преводилац треба са хвала где".split()),
    "mkd": frozenset("е сум ќе во молам преведувач благодарам со каде ве".split()),
}
