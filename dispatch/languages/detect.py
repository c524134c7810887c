"""Guess the language of a free text (an SMS from a supervisor, a note typed by an officer).

Evidence, strongest first:

1. Script. Many scripts belong to one catalog language (Gurmukhi -> Punjabi, Hangul ->
   Korean, Georgian, Armenian, Thai, Khmer, ...), so even two or three letters settle it.
   Scripts shared by a few languages are split by distinctive letters (Cyrillic ђ/ћ ->
   Serbian, ї/є -> Ukrainian; Arabic ٹ/ے -> Urdu, ټ/ښ -> Pashto; Ethiopic ኣ -> Tigrinya)
   and small marker-word lists (Nepali vs Hindi in Devanagari, Yiddish vs Hebrew).
2. langdetect (seeded, so the same text always gives the same answer), for the 55
   languages it knows.
3. Marker words for languages langdetect lacks. langdetect answers with near-certain
   probability even for text in a language it does not know (Haitian Creole comes back
   as French or Dutch), so its answer is only called confident when the text also
   contains that language's own common words and no other language's markers.

`confident=False` means "ask the person to confirm": it is returned for short or
mixed text, for languages that writing cannot tell from a sibling (Croatian/Serbian/
Bosnian in Latin script, Persian/Dari, the Mayan languages, ...), and whenever the
evidence disagrees. Work is capped at the first MAX_INPUT characters.
"""

from __future__ import annotations

import bisect
import re
import threading
import unicodedata
from collections import Counter
from typing import TYPE_CHECKING

from dispatch.languages import markers as M
from dispatch.languages.model import Detection
from dispatch.languages.normalize import fold

if TYPE_CHECKING:
    from dispatch.languages.catalog import Catalog

MAX_INPUT = 1000
CONFIDENT_AT = 0.80  # below this the caller must confirm
SELF_NAMING_CONF = 0.97

_STARTS = [r[0] for r in M.SCRIPT_RANGES]
_WORD_RE = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+(?:['’ʼʻ‘`](?:[^\W\d_]|[\u0300-\u036f])+)*['’ʼʻ‘]?")
_APOS = str.maketrans({c: "'" for c in "’ʼʻ‘`"})
_ENGLISH_CONTRACTIONS = ("n't", "'s", "'re", "'ll", "'ve", "'m", "'d")
_MAYAN_GLOTTALS = ("k'", "q'", "tz'", "ch'", "b'", "t'")
_QUECHUA_SUFFIXES = ("kuna", "manta", "nchik", "ykichik", "llachu", "paq")

_ld_lock = threading.Lock()


def _build_index(table: dict[str, tuple[frozenset[str], frozenset[str]]]):
    folded: dict[str, list[str]] = {}
    exact: dict[str, list[str]] = {}
    for lang, (fset, eset) in table.items():
        for w in fset:
            folded.setdefault(w, []).append(lang)
        for w in eset:
            exact.setdefault(w, []).append(lang)
    return folded, exact


_MARKER_FOLDED, _MARKER_EXACT = _build_index(M.LATIN_MARKERS)
_SUPPORT_FOLDED, _SUPPORT_EXACT = _build_index(M.SUPPORT_WORDS)

_CYRILLIC_SUPPORT = {
    "ru": frozenset(
        "я не мне нужен нужна переводчик пожалуйста вы это что на в с и как где "
        "помогите говорю по русски меня у он она мы они".split()
    ),
    "bg": frozenset("аз не ми трябва преводач моля вие това какво на в с и как къде помощ говоря съм е ли".split()),
    "uk": frozenset("я не мені потрібен перекладач будь ласка ви це що на в з і як де допоможіть говорю".split()),
    "mk": frozenset(
        "јас не ми треба преведувач ве молам вие ова што на во со и како каде помош зборувам сум е".split()
    ),
}
_SHAHMUKHI = frozenset("نوں وچ تے دا دی دے ہاں ساڈے تسی تسیں پنجابی".split())


def script_of(ch: str) -> str | None:
    """The Unicode script of one character, from the table in markers.py."""
    cp = ord(ch)
    i = bisect.bisect_right(_STARTS, cp) - 1
    if i >= 0 and cp <= M.SCRIPT_RANGES[i][1]:
        return M.SCRIPT_RANGES[i][2]
    return None


def _langdetect(text: str) -> list[tuple[str, float]]:
    """langdetect's ranked guesses, seeded so the same text always gives the same answer."""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    with _ld_lock:  # the first call loads profiles into a module-level factory
        DetectorFactory.seed = 0
    try:
        return [(r.lang, r.prob) for r in detect_langs(text)]
    except LangDetectException:
        return []


class Detector:
    """Detection bound to one catalog: answers are always catalog languages (or None)."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    # ------------------------------------------------------------------ public

    def detect(self, text: str) -> Detection:
        if not isinstance(text, str):
            return Detection(None, 0.0, False, "none")
        text = unicodedata.normalize("NFC", text[:MAX_INPUT])
        counts: Counter[str] = Counter()
        for ch in text:
            if ch.isalpha() or unicodedata.category(ch)[0] == "M":
                script = script_of(ch)
                if script is not None:
                    counts[script] += 1
        if not counts:
            return Detection(None, 0.0, False, "none")
        if counts["Kana"]:  # Japanese mixes kana and kanji
            counts["Kana"] += counts.pop("Han", 0)
        script, n = counts.most_common(1)[0]
        share = n / sum(counts.values())
        det = self._by_script(script, n, text)
        if share < 0.6 and det.confident:
            return Detection(det.language, round(det.confidence * share, 3), False, det.method)
        return det

    # ----------------------------------------------------------------- helpers

    def _result(self, lang_id: str | None, conf: float, method: str, force_unsure: bool = False) -> Detection:
        lang = self._catalog.get(lang_id) if lang_id else None
        conf = max(0.0, min(1.0, conf))
        if lang is None:
            return Detection(None, round(conf, 3) if lang_id else 0.0, False, method)
        confident = conf >= CONFIDENT_AT and not force_unsure and lang.id not in M.ALWAYS_CONFIRM
        return Detection(lang, round(conf, 3), confident, method)

    def _by_script(self, script: str, n: int, text: str) -> Detection:
        few = n < 2
        if script in M.SELF_NAMING:
            lang_id = M.SELF_NAMING[script]
            return self._result(lang_id, 0.5 if few else SELF_NAMING_CONF, "script")
        if script in M.SHARED_SCRIPT:
            return self._result(M.SHARED_SCRIPT[script], 0.6, "script", force_unsure=True)
        lower = text.casefold()
        chars = set(lower)
        if script == "Bengali":
            lang_id = "asm" if chars & M.ASSAMESE_LETTERS else "ben"
            return self._result(lang_id, 0.5 if few else 0.95, "script")
        if script == "Myanmar":
            if chars & M.SHAN_LETTERS:
                return self._result("shn", 0.85, "script")
            if chars & M.KAREN_LETTERS:
                return self._result("ksw", 0.85, "script")
            return self._result("mya", 0.5 if few else 0.93, "script")
        if script == "Han":
            cantonese = sum(1 for ch in text if ch in M.CANTONESE_CHARS)
            if cantonese >= 1:
                return self._result("yue", 0.9 if cantonese >= 2 else 0.7, "script")
            # Written Chinese does not say which Chinese the writer speaks.
            return self._result("cmn", 0.6, "script", force_unsure=True)
        if script == "Tibetan":
            return self._words_choice(
                re.split(r"[\s\u0f0b\u0f0d\u0f0e]+", text),
                M.TIBETAN_MARKERS,
                default="bod",
                default_conf=0.9,
                method="script",
            )
        if script == "Ethiopic":
            return self._ethiopic(text)
        if script == "Hebrew":
            return self._hebrew(text, chars)
        if script == "Devanagari":
            return self._devanagari(text)
        if script == "Arabic":
            return self._arabic(text, chars)
        if script == "Cyrillic":
            return self._cyrillic(lower, chars)
        if script == "Latin":
            return self._latin(text, n)
        return self._result(None, 0.0, "script")

    def _words_choice(
        self,
        tokens: list[str],
        table: dict[str, frozenset[str]],
        default: str,
        default_conf: float,
        method: str,
        bonus: dict[str, float] | None = None,
    ) -> Detection:
        """Pick the language whose marker words occur most; confident only on a clear lead."""
        scores: Counter[str] = Counter()
        for tok in tokens:
            for lang, words in table.items():
                if tok in words:
                    scores[lang] += 1
        for lang, extra in (bonus or {}).items():
            scores[lang] += extra
        ranked = scores.most_common(2)
        if not ranked or ranked[0][1] <= 0:
            return self._result(default, default_conf, method)
        best, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if top >= 2 and second * 2 <= top:
            return self._result(best, 0.9, "markers")
        if second * 2 <= top:
            return self._result(best, 0.75, "markers")
        return self._result(best, 0.55, "markers", force_unsure=True)

    def _ethiopic(self, text: str) -> Detection:
        tir = sum(1 for ch in text if ch in M.TIGRINYA_LETTERS)
        amh = sum(1 for ch in text if ch in M.AMHARIC_LETTERS)
        tokens = re.split(r"[\s\u1361-\u1368.,!?]+", text)
        bonus = {"tir": min(tir, 6) * 0.5, "amh": min(amh, 6) * 0.5}
        det = self._words_choice(
            tokens, M.ETHIOPIC_MARKERS, default="amh", default_conf=0.6, method="script", bonus=bonus
        )
        if det.method == "script":  # no evidence at all: Amharic is likelier, but ask
            return self._result("amh", 0.6, "script", force_unsure=True)
        return det

    def _hebrew(self, text: str, chars: set[str]) -> Detection:
        tokens = re.findall(r"[\u05d0-\u05ea\u05f0-\u05f2\u0591-\u05c7\ufb1d-\ufb4f]+", text)
        letters = sum(1 for ch in text if "\u05d0" <= ch <= "\u05ea")
        ayin = text.count("ע")
        bonus = {
            "yid": (2.0 if chars & M.YIDDISH_LETTERS else 0.0)
            + (1.0 if letters >= 10 and ayin / letters > 0.08 else 0.0)
        }
        # Hebrew text is usually unpointed; strip points before matching Hebrew words.
        plain = ["".join(c for c in t if not "\u0591" <= c <= "\u05c7") for t in tokens]
        return self._words_choice(
            tokens + plain, M.HEBREW_MARKERS, default="heb", default_conf=0.7, method="script", bonus=bonus
        )

    def _devanagari(self, text: str) -> Detection:
        tokens = re.findall(r"[\u0900-\u097f\u200c\u200d]+", text)
        bonus: dict[str, float] = {"nep": 0.5 * sum(1 for t in tokens if t.endswith(M.NEPALI_SUFFIXES))}
        ld = _langdetect(text)
        if ld and ld[0][0] in ("hi", "ne", "mr"):
            vote = {"hi": "hin", "ne": "nep", "mr": "mar"}[ld[0][0]]
            bonus[vote] = bonus.get(vote, 0.0) + 1.0
        det = self._words_choice(
            tokens, M.DEVANAGARI_MARKERS, default="hin", default_conf=0.6, method="script", bonus=bonus
        )
        if det.method == "script":  # nothing recognisable
            return self._result("hin", 0.5, "script", force_unsure=True)
        return det

    def _arabic(self, text: str, chars: set[str]) -> Detection:
        tokens = re.findall(r"[\u0600-\u06ff\u0750-\u077f\u200c]+", text)
        tokset = set(tokens)

        def count(key: str) -> int:
            letters = M.ARABIC[key]
            return sum(1 for ch in text if ch in letters)

        if count("uig"):
            return self._result("uig", 0.9, "script")
        if count("ckb"):
            return self._result("ckb", 0.9, "script")
        if count("snd") >= 2:
            return self._result("snd", 0.85, "script")
        if count("pus"):
            return self._result("pus", 0.9, "script")
        if count("kas"):
            return self._result("kas", 0.8, "script")
        urdu_words = len(tokset & M.ARABIC_MARKERS["urd"])
        if count("urd"):
            panjabi = len(tokset & _SHAHMUKHI)
            if panjabi and panjabi >= urdu_words:
                return self._result("pan", 0.6, "markers", force_unsure=True)
            return self._result("urd", 0.92 if urdu_words else 0.7, "script")
        persianate, arabic = count("persianate"), count("ara")
        fa_words = len(tokset & M.ARABIC_MARKERS["fas"])
        ar_words = len(tokset & M.ARABIC_MARKERS["ara"])
        if persianate > arabic or fa_words > ar_words:
            dari = len(tokset & M.ARABIC_MARKERS["prs"])
            return self._result("prs" if dari > fa_words else "fas", 0.8, "script")
        ld = _langdetect(text)
        agree = bool(ld) and ld[0][0] == "ar"
        return self._result("ara", 0.93 if (agree or arabic or ar_words) else 0.7, "script")

    def _cyrillic(self, lower: str, chars: set[str]) -> Detection:
        C = M.CYRILLIC
        if chars & C["srp"]:
            return self._result("srp", 0.95, "script")
        if chars & C["mkd"]:
            return self._result("mkd", 0.95, "script")
        if chars & C["ukr"]:
            return self._result("ukr", 0.95, "script")
        if chars & C["che"]:
            return self._result("che", 0.9, "script")
        if chars & C["tgk"]:
            return self._result("tgk", 0.9, "script")
        kazakh_i = "і" in chars and chars & (C["turkic"] | C["kaz_kir_mon"] | C["kir"])
        if chars & C["kaz"] or kazakh_i:
            return self._result("kaz", 0.9, "script")
        if chars & C["bel"]:
            if chars & C["turkic"]:
                return self._result("uzb", 0.85, "script")
            return self._result("bel", 0.9, "script")
        if chars & C["kir"]:
            return self._result("kir", 0.85, "script")
        if chars & C["kaz_kir_mon"]:
            # Mongolian, or Kyrgyz without its ң: ask.
            return self._result("mon", 0.7, "script")
        if chars & C["turkic"]:
            return self._result("kaz", 0.6, "script", force_unsure=True)
        if "і" in chars:
            return self._result("bel" if chars & C["ru_only"] else "ukr", 0.85, "script")
        tokens = re.findall(r"[\u0400-\u04ff]+", lower)
        if chars & C["sr_mk"]:
            ld = _langdetect(lower)
            bonus = {"mkd": 1.0} if ld and ld[0][0] == "mk" else {}
            return self._words_choice(
                tokens, M.CYRILLIC_SR_MK, default="srp", default_conf=0.6, method="script", bonus=bonus
            )
        ld = _langdetect(lower)
        if not ld:
            return self._result(None, 0.0, "langdetect")
        code, prob = ld[0]
        conf = prob
        if chars & C["ru_only"]:
            if code != "ru":
                code, conf = "ru", 0.85
        words = set(tokens)
        supports = {k: len(words & v) for k, v in _CYRILLIC_SUPPORT.items()}
        support = supports.get(code, 0)
        rival, rival_support = max(((k, v) for k, v in supports.items() if k != code), key=lambda kv: kv[1])
        if rival_support > support:
            # langdetect's short-text answer is contradicted by the words themselves.
            code, conf = rival, 0.6
        elif rival_support and rival_support == support:
            conf *= 0.6
        if support == 0 and rival_support == 0:
            conf *= 0.6
        if code == "mk" and not chars & (C["sr_mk"] | C["mkd"]):
            conf *= 0.7  # Macedonian text nearly always shows ј or ќ/ѓ/ѕ
        if words & M.CYRILLIC_SR_MK["srp"] and code != "sr":
            conf *= 0.7
        if sum(len(t) for t in tokens) < 10:
            conf *= 0.75
        return self._result(code, conf, "langdetect")

    # -------------------------------------------------------------------- Latin

    def _latin(self, text: str, n_letters: int) -> Detection:
        raw = [t.translate(_APOS).casefold() for t in _WORD_RE.findall(text)]
        if not raw:
            return self._result(None, 0.0, "none")
        folded = [fold(t).replace(" ", "") for t in raw]
        scores = self._latin_markers(text.casefold(), raw, folded)

        ld = _langdetect(text)
        code, prob = ld[0] if ld else (None, 0.0)
        det_lang = self._catalog.get(code) if code else None
        det_id = det_lang.id if det_lang else None
        supports = self._support(raw, folded)
        support = supports.get(code, 0) if code else 0
        rival_support = max((v for k, v in supports.items() if k != code), default=0)

        others = [(s, lang) for lang, s in scores.items() if lang != det_id and s > 0]
        others.sort(key=lambda item: (-item[0], item[1]))
        n = len(raw)
        if others:
            best_score, best = others[0]
            second = others[1][0] if len(others) > 1 else 0.0
            own = scores.get(det_id, 0.0) if det_id else 0.0
            sibling = det_id in M.ALWAYS_CONFIRM and best in M.ALWAYS_CONFIRM
            rival = own if sibling else max(support, own)
            if (best_score >= 2 or (sibling and best_score >= 1)) and best_score > rival:
                conf = min(0.95, 0.5 + 0.12 * best_score)
                clear = second * 2 <= best_score and rival * 2 < best_score
                if not clear:
                    conf *= 0.8
                unsure = best_score < 3 or not clear
                return self._result(best, conf, "markers", force_unsure=unsure)

        if rival_support >= max(2, support + 2):
            # e.g. Estonian text that langdetect calls Finnish: the words say otherwise.
            rival = max(supports.items(), key=lambda kv: (kv[1], kv[0]))[0]
            det_lang = self._catalog.get(rival)
            return self._result(det_lang.id if det_lang else None, 0.6, "langdetect")
        if det_lang is None:
            return self._result(None, 0.0, "langdetect")
        conf = prob
        if code in M.SUPPORT_WORDS:
            ratio = support / n
            if n >= 4:
                if ratio < 0.1:
                    conf *= 0.4
                elif ratio < 0.2:
                    conf *= 0.8
            elif support == 0:
                conf *= 0.6
        if others and others[0][0] >= max(1.0, support / 2):
            conf *= 0.8  # another language's markers weigh against this answer
        if rival_support and rival_support >= support:
            conf *= 0.6  # the text reads at least as much like another language
        if n_letters < 10:
            conf *= 0.75
        return self._result(det_lang.id, conf, "langdetect")

    @staticmethod
    def _support(raw: list[str], folded: list[str]) -> Counter[str]:
        """For each langdetect language, how many words of the text are its common words."""
        counts: Counter[str] = Counter()
        for r, f in zip(raw, folded):
            hit = set(_SUPPORT_FOLDED.get(f, ())) | set(_SUPPORT_EXACT.get(r, ()))
            for code in hit:
                counts[code] += 1
        return counts

    @staticmethod
    def _latin_markers(lower: str, raw: list[str], folded: list[str]) -> Counter[str]:
        """Marker-word and distinctive-letter scores for Latin-script text."""
        scores: Counter[str] = Counter()
        for r, f in zip(raw, folded):
            hit: set[str] = set()
            for lang in _MARKER_FOLDED.get(f, ()):
                hit.add(lang)
            for lang in _MARKER_EXACT.get(r, ()):
                hit.add(lang)
            for lang in hit:
                scores[lang] += 1
        chars = set(lower)
        for lang, letters, weight in M.LATIN_LETTERS:
            if chars & letters:
                scores[lang] += weight * sum(1 for r in raw if not letters.isdisjoint(r))
        # Mayan glottal stops (k' q' tz' ...), not English contractions.
        glottal = sum(
            1
            for r in raw
            if "'" in r and any(g in r for g in _MAYAN_GLOTTALS) and not r.endswith(_ENGLISH_CONTRACTIONS)
        )
        if glottal:
            mayan = [lang for lang in M.MAYAN if scores.get(lang)]
            for lang in mayan or ["quc"]:
                scores[lang] += 0.75 * glottal
        nahuatl = sum(1 for f in folded if "tl" in f)
        if nahuatl >= 2:
            scores["nhe"] += 0.5 * nahuatl
        uzbek = sum(1 for r in raw if "o'" in r or "g'" in r)
        if uzbek:
            scores["uzb"] += uzbek
        quechua = sum(1 for f in folded if f.endswith(_QUECHUA_SUFFIXES))
        if quechua:
            scores["que"] += 0.5 * quechua
            scores["qvi"] += 0.5 * quechua
        return scores
