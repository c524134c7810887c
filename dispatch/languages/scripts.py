"""Detection in the scripts shared by several catalog languages: Ethiopic, Hebrew, Devanagari,
Arabic, Cyrillic (detect.py decides which script a text is in, and reads Latin itself).

Each reading combines distinctive letters, marker words (markers.py) and, where it knows the
languages, langdetect; the answer is confident only when the evidence agrees.
"""

from __future__ import annotations

import heapq
import re
import threading
from collections import defaultdict
from typing import TYPE_CHECKING

from dispatch.languages import markers as M
from dispatch.languages.model import Detection

if TYPE_CHECKING:
    from dispatch.languages.catalog import Catalog

CONFIDENT_AT = 0.80  # below this the caller must confirm

_ld_lock = threading.Lock()

# Letters only one language writes settle it, in this order: (language, letters needed, confidence).
_ARABIC_LETTERS_DECIDE = (("uig", 1, 0.9), ("ckb", 1, 0.9), ("snd", 2, 0.85), ("pus", 1, 0.9), ("kas", 1, 0.8))
_CYRILLIC_LETTERS_DECIDE = (("srp", 0.95), ("mkd", 0.95), ("ukr", 0.95), ("che", 0.9), ("tgk", 0.9))

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


def langdetect_guesses(text: str) -> list[tuple[str, float]]:
    """langdetect's ranked guesses, seeded so the same text always gives the same answer."""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    with _ld_lock:  # the first call loads profiles into a module-level factory
        DetectorFactory.seed = 0
    try:
        return [(r.lang, r.prob) for r in detect_langs(text)]
    except LangDetectException:
        return []


class ScriptEvidence:
    """Answers in one catalog's languages (or None), from the evidence of a non-Latin script."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def _result(self, lang_id: str | None, conf: float, method: str, force_unsure: bool = False) -> Detection:
        lang = self._catalog.get(lang_id) if lang_id else None
        conf = max(0.0, min(1.0, conf))
        if lang is None:
            return Detection(None, round(conf, 3) if lang_id else 0.0, False, method)
        confident = conf >= CONFIDENT_AT and not force_unsure and lang.id not in M.ALWAYS_CONFIRM
        return Detection(lang, round(conf, 3), confident, method)

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
        scores: defaultdict[str, float] = defaultdict(float)  # the bonus is fractional
        for tok in tokens:
            for lang, words in table.items():
                if tok in words:
                    scores[lang] += 1
        for lang, extra in (bonus or {}).items():
            scores[lang] += extra
        ranked = heapq.nlargest(2, scores.items(), key=lambda kv: kv[1])  # as Counter.most_common(2)
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
        ld = langdetect_guesses(text)
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

        for lang_id, letters_needed, conf in _ARABIC_LETTERS_DECIDE:
            if count(lang_id) >= letters_needed:
                return self._result(lang_id, conf, "script")
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
        ld = langdetect_guesses(text)
        agree = bool(ld) and ld[0][0] == "ar"
        return self._result("ara", 0.93 if (agree or arabic or ar_words) else 0.7, "script")

    def _cyrillic(self, lower: str, chars: set[str]) -> Detection:
        C = M.CYRILLIC
        for lang_id, conf in _CYRILLIC_LETTERS_DECIDE:
            if chars & C[lang_id]:
                return self._result(lang_id, conf, "script")
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
            ld = langdetect_guesses(lower)
            bonus = {"mkd": 1.0} if ld and ld[0][0] == "mk" else {}
            return self._words_choice(
                tokens, M.CYRILLIC_SR_MK, default="srp", default_conf=0.6, method="script", bonus=bonus
            )
        ld = langdetect_guesses(lower)
        if not ld:
            return self._result(None, 0.0, "langdetect")
        code, prob = ld[0]
        conf = prob
        if chars & C["ru_only"] and code != "ru":
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
