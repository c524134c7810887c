"""Turn what a person entered into a catalog language.

Inputs arrive from three places: keypad digits from the IVR, SMS text from supervisors,
and speech-recognition results ("I need Spanish please"). The order of attempts is:

1. keypad digits (a trailing '#' is stripped): ``2#`` -> Mandarin;
2. the whole text as a name, endonym or alias (accents, case and apostrophes ignored);
3. the whole text as a code (ISO 639-3/639-1/639-2B or an extra code from the CSV);
4. speech: language names found inside a phrase, longest phrase first;
5. fuzzy: a near miss ("spansh", "portugese") accepted only when it is clearly closest;
6. nothing, with the nearest suggestions.

A word shared by several languages ("Chinese", "Creole", "Kurdish") answers "ambiguous"
with a short list, most requested first, so the IVR can read a menu. All indexes are
built once at load so a resolve stays in the tens of microseconds; input is capped at
MAX_INPUT characters so an absurd input cannot cost more.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from dispatch.languages.model import Language, Resolution
from dispatch.languages.normalize import fold

MAX_INPUT = 200  # characters looked at
MAX_TOKENS = 40  # words scanned for speech
MAX_NGRAM = 5  # longest alias in words ("Assyrian Neo Aramaic" is 3)
MAX_CHOICES = 8  # an IVR menu the caller can answer with one key
MAX_SUGGESTIONS = 5
FUZZY_MIN_LEN = 5  # below this a one-letter change is another word, not a typo
FUZZY_MAX_LEN = 25  # longer than any name ("central atlas tamazight"): not a typo of one
FUZZY_MAX_WORDS = 4  # a longer phrase is speech: look at its words, not the whole

_KIND_ORDER = {"name": 0, "endonym": 1, "alias": 2}

# Words that carry no language in a request ("I need a Spanish interpreter please").
# None may be a language name or alias: the catalog check in Resolver.__init__ drops any
# that are, so a future alias always wins over this list.
FILLER = frozenset(
    """
a an the i im me my we us you your he hes him his she shes her they them their it its
is are was be been am do does did dont doesnt didnt cant can could would will should
need needs needed want wants like get give send find call connect connected please pls plz
thank thanks thankyou yes yeah yep no nope not ok okay hello hi hey sir maam mam officer
speak speaks speaking spoken speaker speakers talk talks talking say says said
language languages lang dialect dialects accent tongue native only just also too very
interpreter interpreters interpretation interpret interpreting translator translators
translation translate translating someone somebody anyone anybody person people who
that this these those there here and or but with without in on at of for to from by as
into about um uh er hmm well so now right lady man woman guy male female kid child
victim witness suspect complainant caller client family mother father
habla hablo hablar hable hablan parle parlez parler fala falo falar por favor
some any one two other another same again still maybe think know
""".split()
)

# Inputs that are codes but far more often an answer to a question ("no" = Norwegian).
_CODE_STOPLIST = frozenset({"no"})


def _osa(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment edit distance (a swap counts 1), capped at limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        best = i
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            if v < best:
                best = v
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


def _deletes(word: str, depth: int) -> set[str]:
    """Every string reachable from `word` by deleting up to `depth` characters."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        nxt = set()
        for w in frontier:
            for i in range(len(w)):
                nxt.add(w[:i] + w[i + 1 :])
        out |= nxt
        frontier = nxt
    return out


def _allowed_distance(q: str, term: str) -> int:
    """How many edits still count as a typo of `term` (longer words tolerate more)."""
    n = min(len(q), len(term))
    if n < FUZZY_MIN_LEN:
        return 0
    return 1 if n < 9 else 2


class Resolver:
    """Precomputed indexes over one catalog; `resolve` never raises."""

    def __init__(
        self, languages: tuple[Language, ...], codes: dict[str, Language], keypad: dict[str, Language]
    ) -> None:
        self._codes = codes
        self._keypad = keypad
        # folded term -> {language id: (Language, best kind)}
        terms: dict[str, dict[str, tuple[Language, str]]] = {}
        for lang in languages:
            entries = [(lang.name, "name"), (lang.endonym, "endonym")]
            entries += [(alias, "alias") for alias in lang.aliases]
            # "Español / Spanish"-style endonyms: each half is a term too.
            for part in lang.endonym.split("/"):
                entries.append((part, "endonym"))
            for text, kind in entries:
                key = fold(text)
                if not key:
                    continue
                slot = terms.setdefault(key, {})
                old = slot.get(lang.id)
                if old is None or _KIND_ORDER[kind] < _KIND_ORDER[old[1]]:
                    slot[lang.id] = (lang, kind)
        # term -> (languages by rank, kind of the single match or "alias")
        self._terms: dict[str, tuple[tuple[Language, ...], str]] = {}
        for key, slot in terms.items():
            primaries = [lang for lang, kind in slot.values() if kind != "alias"]
            if len(primaries) == 1:
                # A language's own name beats the same word as another's alias.
                lang = primaries[0]
                self._terms[key] = ((lang,), slot[lang.id][1])
            else:
                langs = tuple(sorted((lang for lang, _ in slot.values()), key=lambda x: x.rank))
                kind = slot[langs[0].id][1] if len(langs) == 1 else "alias"
                self._terms[key] = (langs, kind)
        self._filler = frozenset(w for w in FILLER if w not in self._terms)
        self._english = codes.get("en")

        # Fuzzy index: deletion neighbourhoods (SymSpell) of Latin-script terms.
        self._fuzzy_terms: list[str] = []
        self._deletes: dict[str, list[int]] = {}
        for key in self._terms:
            if len(key) < FUZZY_MIN_LEN or not key.isascii():
                continue
            tid = len(self._fuzzy_terms)
            self._fuzzy_terms.append(key)
            for d in _deletes(key, 2 if len(key) >= 9 else 1):
                self._deletes.setdefault(d, []).append(tid)
        self._sorted_terms = sorted(self._terms)

    # ------------------------------------------------------------------ public

    def resolve(self, text: str) -> Resolution:
        if not isinstance(text, str):
            return Resolution("none")
        raw = text[:MAX_INPUT].strip()
        digits = raw.rstrip("#").strip()
        if digits.isdigit():
            if digits.isascii() and len(digits) <= 3:
                lang = self._keypad.get(digits)
                if lang is not None:
                    return Resolution("match", language=lang, via="keypad")
            return Resolution("none", via="keypad")

        q = fold(raw)
        if not q:
            return Resolution("none")

        hit = self._terms.get(q)
        if hit is not None:
            return self._from_langs(hit[0], hit[1])

        lang = self._code(raw, q)
        if lang is not None:
            return Resolution("match", language=lang, via="code")

        tokens = q.split()[:MAX_TOKENS]
        if len(tokens) > 1:
            found = self._scan(tokens)
            if found is not None:
                if len(found) > 1 and len(tokens) <= FUZZY_MAX_WORDS:
                    # "hatian creole": a typo next to a shared word; a close spelling of
                    # one of the group's own names settles it.
                    closer = self._fuzzy_phrase(q, tokens)
                    if closer is not None and len(closer) == 1 and closer[0] in found:
                        return Resolution("match", language=closer[0], via="fuzzy")
                return self._from_langs(found, "speech")

        fuzzy = self._fuzzy_phrase(q, tokens)
        if fuzzy is not None:
            return self._from_langs(fuzzy, "fuzzy")

        return Resolution("none", suggestions=self._suggest(q, tokens))

    # ----------------------------------------------------------------- helpers

    @staticmethod
    def _from_langs(langs: tuple[Language, ...], via: str) -> Resolution:
        if len(langs) == 1:
            return Resolution("match", language=langs[0], via=via)
        return Resolution("ambiguous", choices=langs[:MAX_CHOICES], via=via)

    def _code(self, raw: str, q: str) -> Language | None:
        if len(raw) > 16:
            return None
        for key in (raw.lower().replace("_", "-"), q.replace(" ", "-")):
            if key in _CODE_STOPLIST:
                return None
            lang = self._codes.get(key)
            if lang is not None:
                return lang
        return None

    def _scan(self, tokens: list[str]) -> tuple[Language, ...] | None:
        """Language names inside a phrase, longest first: "haitian creole" before "creole"."""
        specific: list[Language] = []
        groups: list[tuple[Language, ...]] = []
        i, n = 0, len(tokens)
        while i < n:
            for size in range(min(MAX_NGRAM, n - i), 0, -1):
                if size == 1:
                    tok = tokens[i]
                    if tok in self._filler or (tok.isascii() and len(tok) <= 2):
                        continue
                    key = tok
                else:
                    key = " ".join(tokens[i : i + size])
                hit = self._terms.get(key)
                if hit is not None:
                    langs = hit[0]
                    if len(langs) == 1:
                        if langs[0] not in specific:
                            specific.append(langs[0])
                    else:
                        groups.append(langs)
                    i += size
                    break
            else:
                i += 1
        return self._combine(specific, groups)

    def _combine(self, specific: list[Language], groups: list[tuple[Language, ...]]) -> tuple[Language, ...] | None:
        # "He doesn't speak English, he speaks Spanish": English is rarely the ask.
        if self._english is not None and self._english in specific and len(specific) > 1:
            specific.remove(self._english)
        if specific:
            return tuple(sorted(specific, key=lambda x: x.rank))
        if not groups:
            return None
        common = set(groups[0]).intersection(*groups[1:])
        pool: Iterable[Language] = common if common else {x for g in groups for x in g}
        return tuple(sorted(pool, key=lambda x: x.rank))

    def _fuzzy_candidates(self, q: str) -> dict[int, int]:
        """term id -> edit distance, for terms within two edits of `q` (ASCII only)."""
        if not q.isascii() or len(q) < FUZZY_MIN_LEN - 1 or len(q) > FUZZY_MAX_LEN:
            return {}
        ids: set[int] = set()
        for d in _deletes(q, 2 if len(q) >= 9 else 1):
            found = self._deletes.get(d)
            if found:
                ids.update(found)
        return {tid: _osa(q, self._fuzzy_terms[tid], 3) for tid in ids}

    def _fuzzy_one(self, q: str) -> tuple[Language, ...] | None:
        """The languages of the clearly closest term, or None when no term is clearly closest."""
        cands = self._fuzzy_candidates(q)
        ok = [(dist, tid) for tid, dist in cands.items() if dist <= _allowed_distance(q, self._fuzzy_terms[tid])]
        if not ok:
            return None
        best = min(dist for dist, _ in ok)
        # Clearly closest: every term at the best distance names the same language(s).
        winners = {self._terms[self._fuzzy_terms[tid]][0] for tid, dist in cands.items() if dist == best}
        if len(winners) != 1:
            return None
        return next(iter(winners))

    def _fuzzy_phrase(self, q: str, tokens: list[str]) -> tuple[Language, ...] | None:
        if len(tokens) <= FUZZY_MAX_WORDS:
            whole = self._fuzzy_one(q)
            if whole is not None:
                return whole
        content = [t for t in tokens if t not in self._filler]
        if not content or len(tokens) == 1:
            return None
        joined = " ".join(content)
        if joined != q and len(content) <= FUZZY_MAX_WORDS:
            found = self._fuzzy_one(joined)
            if found is not None:
                return found
        results: list[tuple[Language, ...]] = []
        for tok in content[:MAX_TOKENS]:
            found = self._fuzzy_one(tok)
            if found is not None and found not in results:
                results.append(found)
        if not results:
            return None
        if len(results) == 1:
            return results[0]
        merged = {x for r in results for x in r}
        return tuple(sorted(merged, key=lambda x: x.rank))

    def _suggest(self, q: str, tokens: list[str]) -> tuple[Language, ...]:
        """Nearest few languages for a "did you mean": close spellings, then prefixes."""
        scored: dict[str, tuple[int, int, Language]] = {}

        def add(langs: Iterable[Language], dist: int) -> None:
            for lang in langs:
                old = scored.get(lang.id)
                if old is None or (dist, lang.rank) < old[:2]:
                    scored[lang.id] = (dist, lang.rank, lang)

        words = [q] + [t for t in tokens if t not in self._filler and t != q][:4]
        for word in words:
            for tid, dist in self._fuzzy_candidates(word).items():
                if dist <= 2:
                    add(self._terms[self._fuzzy_terms[tid]][0], dist)
            for prefix in {word, word[:4]}:
                if len(prefix) < 3:
                    continue
                pos = bisect.bisect_left(self._sorted_terms, prefix)
                for key in self._sorted_terms[pos : pos + 8]:
                    if not key.startswith(prefix):
                        break
                    add(self._terms[key][0], 3 if prefix == word else 4)
        ranked = sorted(scored.values(), key=lambda item: (item[0], item[1]))
        return tuple(item[2] for item in ranked[:MAX_SUGGESTIONS])
