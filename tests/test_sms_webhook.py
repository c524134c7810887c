"""The messaging webhook, signed like Twilio, on a real Redis with a fake phone network.

Table-driven: every way a supervisor names a language, sentences in the resident's
own language (sure and unsure detections), each command, each kind of bad input,
duplicate deliveries, liaison duty texts and unregistered senders. Every answer
must be well-formed TwiML with exactly one <Message> that fits one SMS segment.
"""

from __future__ import annotations

import itertools
import threading
import xml.etree.ElementTree as ET

import pytest

from dispatch import events, keys
from dispatch.routing import Dispatcher
from dispatch.sms import replies
from dispatch.sms.service import Inbound, SmsService
from dispatch.states import State
from tests.support.signing import signed_post

_sids = itertools.count(1)
UNREGISTERED = "+13475550142"


def supervisor(ctx, n: int = 0):
    return ctx.roster.supervisors[n]


def send(client, settings, ctx, body, sender=None, sid=None, media=0, raw_params=None):
    """Text the service number; returns the reply text after checking the TwiML shape."""
    params = {
        "From": sender or supervisor(ctx).cell,
        "To": ctx.roster.service_number,
        "Body": body,
        "MessageSid": sid or f"SM{next(_sids):032d}",
        "NumMedia": str(media),
        "AccountSid": settings.twilio_account_sid,
    }
    if media:
        params["MediaUrl0"] = "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1"
        params["MediaContentType0"] = "image/jpeg"
    if raw_params is not None:
        params = raw_params
    response = signed_post(client, settings, "/sms/incoming", params)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)  # well-formed XML, or this raises
    assert root.tag == "Response"
    messages = list(root)
    assert [m.tag for m in messages] == ["Message"], response.data
    text = messages[0].text or ""
    assert replies.fits(text), f"{replies.gsm7_units(text)} units: {text}"
    return text


def only_request(ctx):
    ids = ctx.requests.open_ids()
    assert len(ids) == 1, ids
    return ctx.requests.get(ids[0])


def redis_dump(r) -> str:
    """Every key and value in Redis, as one string, to prove a text was not kept."""
    out = []
    for key in r.scan_iter("*"):
        kind = r.type(key)
        out.append(key.decode("utf-8", "replace"))
        if kind == b"string":
            out.append(r.get(key).decode("utf-8", "replace"))
        elif kind == b"hash":
            out += [f"{k.decode('utf-8', 'replace')}={v.decode('utf-8', 'replace')}" for k, v in r.hgetall(key).items()]
        elif kind == b"list":
            out += [v.decode("utf-8", "replace") for v in r.lrange(key, 0, -1)]
        elif kind == b"set":
            out += [v.decode("utf-8", "replace") for v in r.smembers(key)]
        elif kind == b"zset":
            out += [v.decode("utf-8", "replace") for v in r.zrange(key, 0, -1)]
        elif kind == b"stream":
            for _id, fields in r.xrange(key):
                out += [f"{k.decode()}={v.decode('utf-8', 'replace')}" for k, v in fields.items()]
    return "\n".join(out)


def assert_not_kept(r, text: str) -> None:
    dump = redis_dump(r)
    for word in text.split():
        word = word.strip(".,!?¿¡،、，")
        if len(word) >= 5:
            assert word not in dump, f"{word!r} from the text was stored"


# ---------------------------------------------------------------- naming a language


@pytest.mark.parametrize(
    "body, language, urgent, callback",
    [
        ("1", "spa", False, ""),  # keypad code
        ("2", "cmn", False, ""),
        ("ES", "spa", False, ""),  # ISO 639-1
        ("ben", "ben", False, ""),  # ISO 639-3
        ("bengali", "ben", False, ""),  # English name
        ("Bangla", "ben", False, ""),  # alias
        ("русский", "rus", False, ""),  # endonym, Cyrillic
        ("Kreyòl ayisyen", "hat", False, ""),  # endonym with an accent
        ("Need Spanish interpreter", "spa", False, ""),
        ("spanish URGENT", "spa", True, ""),
        ("URGENT 5", "ben", True, ""),
        ("Spanish call me back at (718) 555-0175 URGENT", "spa", True, "+17185550175"),
        ("ar 347 555 0199", "ara", False, "+13475550199"),  # a scene's dual-handset line
        ("0", None, False, ""),  # unknown: the vendor's operator identifies it
        ("unknown urgent", None, True, ""),
    ],
)
def test_each_way_of_naming_a_language_opens_one_request_and_queues_the_call_back(
    client, settings, ctx, jobs, body, language, urgent, callback
):
    reply = send(client, settings, ctx, body)
    rec = only_request(ctx)
    assert rec.state == State.NEW and rec.channel == "sms"
    assert rec.language == language and rec.urgent is urgent and rec.callback_number == callback
    assert rec.caller == supervisor(ctx).cell and rec.caller_kind == "supervisor"
    assert rec.precinct == supervisor(ctx).precinct and rec.unit == supervisor(ctx).id
    assert jobs.submitted == [("call_back", (rec.id,))]
    assert reply.startswith(f"Request {rec.id}: ")
    assert (ctx.catalog.get(language).name if language else "identified") in reply
    assert "Calling" in reply and "CANCEL" in reply and not reply.endswith("...")
    assert (
        (f"the number ending {callback[-4:]}" in reply and callback[2:] not in reply)
        if callback
        else ("this phone" in reply)
    )
    assert ("URGENT" in reply) is urgent
    assert rec.id in ctx.requests.due(rec.created_at + 60), "the sweeper bounds an unanswered call back"


def test_a_near_miss_asks_to_confirm_and_yes_requests_it(client, settings, ctx, jobs, r):
    reply = send(client, settings, ctx, "spansh urgent 718 555 0175")
    assert reply == "Did you mean Spanish? Reply YES to request Spanish, or send a language code."
    assert ctx.requests.open_ids() == [] and jobs.submitted == []
    pending = {k.decode(): v.decode() for k, v in r.hgetall(keys.sms_pending(supervisor(ctx).cell)).items()}
    assert pending == {"language": "spa", "urgent": "1", "callback": "+17185550175"}
    assert 0 < r.ttl(keys.sms_pending(supervisor(ctx).cell)) <= 600
    reply = send(client, settings, ctx, "Yes")
    rec = only_request(ctx)
    assert rec.language == "spa" and rec.urgent and rec.callback_number == "+17185550175"
    assert reply.startswith(f"Request {rec.id}: Spanish, URGENT.")
    assert not r.exists(keys.sms_pending(supervisor(ctx).cell))
    assert send(client, settings, ctx, "YES") == replies.NOTHING_TO_CONFIRM
    assert len(ctx.requests.open_ids()) == 1


def test_a_shared_word_lists_choices_and_the_code_answers_it(client, settings, ctx):
    reply = send(client, settings, ctx, "chinese urgent")
    mandarin, cantonese = ctx.catalog.get("cmn"), ctx.catalog.get("yue")
    assert reply.startswith("Which one? Reply with the code: ")
    assert f"{mandarin.keypad} Mandarin" in reply and f"{cantonese.keypad} Cantonese" in reply
    assert ctx.requests.open_ids() == []
    send(client, settings, ctx, cantonese.keypad)
    rec = only_request(ctx)
    assert rec.language == "yue" and rec.urgent, "the follow-up keeps the URGENT of the question it answers"


def test_no_declines_a_confirmation(client, settings, ctx, r):
    send(client, settings, ctx, "spansh")
    assert send(client, settings, ctx, "no") == replies.DECLINED
    assert not r.exists(keys.sms_pending(supervisor(ctx).cell)) and ctx.requests.open_ids() == []


def test_the_same_language_again_while_waiting_is_not_a_second_request(client, settings, ctx, jobs):
    first = send(client, settings, ctx, "spanish")
    rec = only_request(ctx)
    again = send(client, settings, ctx, "SPANISH")
    assert again.startswith(f"You already have request {rec.id} (Spanish)")
    assert len(ctx.requests.open_ids()) == 1 and len(jobs.submitted) == 1
    send(client, settings, ctx, "russian")
    assert len(ctx.requests.open_ids()) == 2, "another language is another request"
    assert first != again


# ---------------------------------------------------------------- the resident's own words

SURE = [  # (sentence, language detected with confidence → requested at once)
    ("Mi hijo no puede respirar, por favor ayúdenme", "spa"),
    ("Пожалуйста, помогите, мой муж упал и не может встать", "rus"),
    ("請幫幫我，我的孩子唔見咗", "yue"),
    ("من فضلك ساعدني، ابني مفقود منذ الصباح", "ara"),
    ("দয়া করে আমাকে সাহায্য করুন, আমার ছেলে হারিয়ে গেছে", "ben"),
    ("도와주세요, 제 아들이 없어졌어요", "kor"),
    ("S'il vous plaît aidez-moi, mon fils a disparu ce matin", "fra"),
    ("Je ne parle pas anglais, aidez-moi", "fra"),
    ("Tanpri ede m, pitit gason mwen an disparèt maten an", "hat"),  # a language langdetect lacks
    ("براہ کرم میری مدد کریں، میرا بیٹا کھو گیا ہے", "urd"),
    ("Παρακαλώ βοηθήστε με, ο γιος μου χάθηκε", "ell"),
    ("कृपया मेरी मदद करें, मेरा बेटा खो गया है", "hin"),
    ("助けてください、息子が迷子になりました", "jpn"),
    ("Làm ơn giúp tôi, con trai tôi bị mất tích", "vie"),
    ("בבקשה תעזרו לי, הבן שלי נעלם", "heb"),
    ("Lütfen bana yardım edin, oğlum kayboldu", "tur"),
    ("ਕਿਰਪਾ ਕਰਕੇ ਮੇਰੀ ਮਦਦ ਕਰੋ", "pan"),
    ("Mówię tylko po polsku, proszę o pomoc tłumacza", "pol"),
]

UNSURE = [  # (sentence, the guess to confirm)
    ("请帮帮我，我的孩子不见了", "cmn"),  # simplified Chinese could be several spoken languages
    ("Proszę mi pomóc, mój syn zaginął dziś rano", "pol"),
    ("Por favor me ajude, meu filho desapareceu hoje de manhã", "por"),
    ("Dzień dobry", "pol"),
    ("Помогите", "rus"),
    ("No hablo inglés", "spa"),  # names English, but is Spanish
    ("אידיש רעדט איר", "yid"),
]


@pytest.mark.parametrize("sentence, language", SURE)
def test_a_forwarded_sentence_is_detected_and_requested(client, settings, ctx, r, jobs, sentence, language):
    reply = send(client, settings, ctx, sentence)
    rec = only_request(ctx)
    assert rec.language == language, reply
    assert reply.startswith(f"Request {rec.id}: {replies.to_gsm7(ctx.catalog.get(language).name)}.")
    assert jobs.submitted == [("call_back", (rec.id,))]
    assert_not_kept(r, sentence)


@pytest.mark.parametrize("sentence, language", UNSURE)
def test_an_unsure_detection_asks_to_confirm(client, settings, ctx, r, jobs, sentence, language):
    name = ctx.catalog.get(language).name
    reply = send(client, settings, ctx, sentence)
    assert reply == f"Looks like {name}. Reply YES to request {name}, or send a language code."
    assert ctx.requests.open_ids() == [] and jobs.submitted == []
    pending = {k.decode(): v.decode() for k, v in r.hgetall(keys.sms_pending(supervisor(ctx).cell)).items()}
    assert pending["language"] == language
    assert_not_kept(r, sentence)
    send(client, settings, ctx, "YES")
    assert only_request(ctx).language == language
    assert_not_kept(r, sentence)


def test_an_unsure_guess_can_be_corrected_with_a_code(client, settings, ctx):
    send(client, settings, ctx, "Por favor me ajude, meu filho desapareceu hoje de manhã")
    send(client, settings, ctx, "ES")
    assert only_request(ctx).language == "spa"


def test_enough_scripts_and_languages_are_covered():
    languages = {lang for _, lang in SURE + UNSURE}
    assert len(SURE) + len(UNSURE) >= 10 and len(languages) >= 15
    scripts = {
        "Latin",
        "Cyrillic",
        "Han",
        "Arabic",
        "Bengali",
        "Hangul",
        "Greek",
        "Devanagari",
        "Kana",
        "Hebrew",
        "Gurmukhi",
    }
    assert len(scripts) >= 10


# ---------------------------------------------------------------- commands


def test_help_and_codes(client, settings, ctx):
    assert send(client, settings, ctx, "HELP") == replies.HELP
    assert send(client, settings, ctx, "?") == replies.HELP
    codes = send(client, settings, ctx, "codes")
    for language in ctx.catalog.top(8):
        assert f"{language.keypad} {replies.name(language)}" in codes
    assert ctx.requests.open_ids() == []


def test_status_reports_the_senders_newest_open_request(client, settings, ctx, jobs):
    assert send(client, settings, ctx, "STATUS") == replies.NO_OPEN
    send(client, settings, ctx, "spanish")
    older = only_request(ctx)
    send(client, settings, ctx, "russian")
    newer = [ctx.requests.get(i) for i in ctx.requests.open_ids() if i != older.id][0]
    reply = send(client, settings, ctx, "status")
    assert reply.startswith(f"Request {newer.id} (Russian): calling you back now.")
    assert send(client, settings, ctx, f"STATUS {older.id}").startswith(f"Request {older.id} (Spanish)")
    other = supervisor(ctx, 1).cell
    assert send(client, settings, ctx, "STATUS", sender=other) == replies.NO_OPEN, "only the sender's own"
    assert send(client, settings, ctx, f"STATUS {older.id}", sender=other) == replies.NO_OPEN
    Dispatcher(ctx).start(newer.id, "CA" + "a" * 32)
    assert "finding an interpreter, number 1 in line" in send(client, settings, ctx, "STATUS")


def test_cancel_cancels_the_newest_open_request_and_stops_its_call_back(client, settings, ctx, telephony, jobs):
    from dispatch.sms.service import place_callback

    assert send(client, settings, ctx, "CANCEL") == replies.NO_OPEN
    send(client, settings, ctx, "bengali")
    rec = only_request(ctx)
    sid = place_callback(ctx, rec.id)
    reply = send(client, settings, ctx, "cancel")
    assert reply == f"Request {rec.id} (Bengali) is cancelled. Text a language to request again."
    assert ctx.requests.get(rec.id).state == State.CANCELLED
    assert ("hang_up", (rec.id, sid)) in jobs.submitted
    jobs.drain(client.application.extensions["dispatcher"])
    assert sid in telephony.hangups, "the ringing call back is stopped"
    assert send(client, settings, ctx, "CANCEL") == replies.NO_OPEN
    assert any(e["action"] == "cancel" and e["target"] == rec.id for e in events.audit_entries(ctx.redis))


def test_cancel_of_a_connected_request_says_to_hang_up(client, settings, ctx):
    send(client, settings, ctx, "spanish")
    rec = only_request(ctx)
    Dispatcher(ctx).start(rec.id, "CA" + "b" * 32)
    ctx.requests.apply(rec.id, "vendor_dial")
    ctx.requests.apply(rec.id, "vendor_connected")
    assert (
        send(client, settings, ctx, "CANCEL") == f"Request {rec.id} is connected to an interpreter; hang up to end it."
    )
    assert ctx.requests.get(rec.id).state == State.CONNECTED


# ---------------------------------------------------------------- bad input

NOTHING_QUEUED_INPUTS = [
    ("empty", "", 0, replies.EMPTY),
    ("blank", "  \n\t ", 0, replies.EMPTY),
    ("picture", "", 1, replies.PICTURE),
    ("picture with spaces", " ", 3, replies.PICTURE),
    ("emoji", "🙂🙏🏽", 0, None),
    ("only URGENT", "URGENT!!", 0, replies.NEED_LANGUAGE),
    ("twiml", '<?xml version="1.0"?><Response><Dial>+15555550100</Dial></Response>', 0, None),
    ("twiml spaced", "<Response> <Say>hi</Say> <Redirect>http://evil/</Redirect> </Response>", 0, None),
    ("entities", "&lt;Message&gt; ]]> <![CDATA[ x", 0, None),
    ("controls", "\x00\x01\x02\x1b[31m", 0, None),
    ("1,600 junk", "x" * 1600, 0, None),
    ("digits", "12345678", 0, replies.BAD_CALLBACK),
    ("bad callback", "spanish 555-0175", 0, replies.BAD_CALLBACK),
    ("premium callback", "spanish 1 900 555 0123", 0, replies.BAD_CALLBACK),
    ("foreign callback", "spanish +44 20 7946 0958", 0, replies.BAD_CALLBACK),
]


@pytest.mark.parametrize(
    "label, body, media, expected", NOTHING_QUEUED_INPUTS, ids=[x[0] for x in NOTHING_QUEUED_INPUTS]
)
def test_bad_input_gets_a_sensible_reply_and_queues_nothing(client, settings, ctx, jobs, label, body, media, expected):
    reply = send(client, settings, ctx, body, media=media)
    if expected is not None:
        assert reply == expected
    else:
        assert reply.startswith("Language not recognised."), reply
    assert "Dial" not in reply and "<" not in reply
    assert ctx.requests.open_ids() == [] and jobs.submitted == []


def test_a_1600_character_sentence_is_capped_and_still_read(client, settings, ctx, r):
    sentence = "Mi hijo no puede respirar, por favor ayúdenme. "
    body = (sentence * 40)[:1600]
    reply = send(client, settings, ctx, body)
    assert only_request(ctx).language == "spa" and reply.startswith("Request ")
    assert_not_kept(r, sentence)


def test_a_picture_with_a_language_is_read_for_the_language(client, settings, ctx):
    send(client, settings, ctx, "spanish", media=1)
    assert only_request(ctx).language == "spa"


def test_missing_fields_never_500(client, settings, ctx):
    params = {"From": supervisor(ctx).cell, "AccountSid": settings.twilio_account_sid}
    assert send(client, settings, ctx, "", raw_params=params) == replies.EMPTY
    bad_media = dict(params, Body="spanish", NumMedia="lots", MessageSid="SM" + "9" * 32)
    assert send(client, settings, ctx, "", raw_params=bad_media).startswith("Request ")
    assert send(client, settings, ctx, "", raw_params={"Body": "spanish"}) == replies.UNREGISTERED


def test_unsigned_text_is_refused(client, ctx):
    response = client.post("/sms/incoming", data={"From": supervisor(ctx).cell, "Body": "spanish"})
    assert response.status_code == 403 and ctx.requests.open_ids() == []


# ---------------------------------------------------------------- duplicates


def test_the_same_message_sid_is_handled_once(client, settings, ctx, jobs, r):
    sid = "SM" + "d" * 32
    first = send(client, settings, ctx, "spanish", sid=sid)
    second = send(client, settings, ctx, "spanish", sid=sid)
    assert first == second
    assert len(ctx.requests.open_ids()) == 1 and len(jobs.submitted) == 1
    assert 0 < r.ttl(keys.once("sms", sid)) <= 24 * 3600


def test_a_duplicate_command_is_not_redone(client, settings, ctx, jobs):
    send(client, settings, ctx, "spanish")
    rec = only_request(ctx)
    sid = "SM" + "c" * 32
    first = send(client, settings, ctx, "CANCEL", sid=sid)
    send(client, settings, ctx, "russian")
    assert send(client, settings, ctx, "CANCEL", sid=sid) == first
    assert ctx.requests.get(rec.id).state == State.CANCELLED
    assert len(ctx.requests.open_ids()) == 1, "the redelivered CANCEL did not cancel the new request"


def test_concurrent_redeliveries_open_one_request(ctx, jobs):
    service = SmsService(ctx, Dispatcher(ctx))
    msg = Inbound(supervisor(ctx).cell, "spanish", "SM" + "e" * 32)
    answers: list[str] = []
    threads = [threading.Thread(target=lambda: answers.append(service.handle(msg))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ctx.requests.open_ids()) == 1 and len(jobs.submitted) == 1
    assert len(set(answers)) == 1 and answers[0].startswith("Request ")


# ---------------------------------------------------------------- who may text


def test_an_unregistered_number_is_refused_audited_without_its_text(client, settings, ctx, jobs, r):
    body = "Spanish please, officer down at 123 Main Street"
    assert send(client, settings, ctx, body, sender=UNREGISTERED) == replies.UNREGISTERED
    assert ctx.requests.open_ids() == [] and jobs.submitted == []
    (entry,) = ctx.audit.refusals()  # counted per hour, not one entry per text (tests/test_attacks_signin.py)
    assert entry["action"] == "sms_request" and entry["outcome"] == "refused: unregistered number"
    assert entry["who"] == "unregistered numbers" and entry["count"] == 1
    assert events.audit_entries(r) == []  # the actions' log is the sergeants'
    assert UNREGISTERED not in redis_dump(r) and UNREGISTERED[2:] not in redis_dump(r)
    assert_not_kept(r, body)
    assert not r.exists(keys.sms_pending(UNREGISTERED))


def test_a_precinct_line_is_not_a_texting_supervisor(client, settings, ctx):
    line = ctx.roster.precincts[0].lines[0]
    assert send(client, settings, ctx, "spanish", sender=line) == replies.UNREGISTERED


def test_too_many_texts_are_refused(client, settings, ctx):
    for _ in range(settings.caller_rate_limit):
        send(client, settings, ctx, "HELP")
    assert send(client, settings, ctx, "HELP") == replies.TOO_MANY


def test_logs_mask_numbers_and_never_hold_the_text(client, settings, ctx, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    body = "Пожалуйста, помогите, мой муж упал и не может встать"
    send(client, settings, ctx, body + " 718 555 0175")
    send(client, settings, ctx, "spanish", sender=UNREGISTERED)
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "text from" in text
    for number in (supervisor(ctx).cell, UNREGISTERED, "+17185550175"):
        assert number not in text and number[2:] not in text
    assert "помогите" not in text and "может" not in text


# ---------------------------------------------------------------- liaisons


def liaison(ctx, language="spa"):
    return next(l for l in ctx.roster.liaisons if language in l.languages)


def test_liaison_off_on_and_on_with_codes(client, settings, ctx, r):
    who = liaison(ctx, "spa")
    dispatcher = Dispatcher(ctx)
    assert send(client, settings, ctx, "OFF", sender=who.phone) == replies.LIAISON_OFF
    assert ctx.liaisons.status(who.id).duty_override == "off"
    assert who.id not in [l.id for l in dispatcher.candidates("spa")]

    reply = send(client, settings, ctx, "ON ES, BN", sender=who.phone)
    assert reply == "You are ON duty today for Spanish, Bengali. Text OFF when you stop."
    status = ctx.liaisons.status(who.id)
    assert status.duty_override == "on" and status.languages_override == ("spa", "ben")
    assert who.id in [l.id for l in dispatcher.candidates("ben")]

    reply = send(client, settings, ctx, "on haitian creole xx", sender=who.phone)
    assert reply.startswith("You are ON duty today for Haitian Creole.") and "1 code not recognised" in reply
    assert ctx.liaisons.status(who.id).languages_override == ("hat",)

    reply = send(client, settings, ctx, "ON", sender=who.phone)
    assert reply.startswith("You are ON duty for your usual languages: ")
    assert ctx.liaisons.status(who.id).languages_override is None
    assert "set by text" in send(client, settings, ctx, "STATUS", sender=who.phone)
    actions = [e["action"] for e in events.audit_entries(r)]
    assert actions.count("duty_on") == 3 and actions.count("duty_off") == 1


def test_liaison_unrecognised_codes_change_nothing(client, settings, ctx):
    who = liaison(ctx, "spa")
    assert send(client, settings, ctx, "ON qq zz", sender=who.phone) == replies.LIAISON_NO_CODES
    status = ctx.liaisons.status(who.id)
    assert status.duty_override == "" and status.languages_override is None


@pytest.mark.parametrize("body", ["spanish", "HELP", "", "what?"])
def test_liaison_other_texts_get_the_liaison_help(client, settings, ctx, jobs, body):
    assert send(client, settings, ctx, body, sender=liaison(ctx).phone) == replies.LIAISON_HELP
    assert ctx.requests.open_ids() == [] and jobs.submitted == []
