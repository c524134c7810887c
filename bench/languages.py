"""Benchmark: how long one resolve and one detect take on a mix of realistic inputs.

    .venv/bin/python -m bench.languages [--n 4000] [--detect-n 600]

Resolution runs on every IVR keypress/speech result and SMS, so it must stay well under a
millisecond; detection runs once per free-text SMS and may be slower (langdetect).
Prints a table of mean/p50/p99/max microseconds and exits non-zero if the resolve p99
exceeds 1 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

from dispatch.languages import default_catalog

RESOLVE_INPUTS = [
    "1",
    "2#",
    "6",
    "12#",
    "105",
    "0",
    "9#",
    "1" * 30,
    "es",
    "SPA",
    "zh-TW",
    "ht",
    "yue-x-taishan",
    "Spanish",
    "mandarin",
    "Haitian Creole",
    "Español",
    "espanol",
    "Русский",
    "বাংলা",
    "Castellano",
    "Farsi",
    "Fulani",
    "Quiché",
    "Mixteco",
    "spansh",
    "portugese",
    "rusian",
    "vietnamise",
    "hatian creole",
    "kurdsh",
    "I need Spanish please",
    "Spanish interpreter",
    "habla español",
    "uh I need a Russian interpreter for the victim",
    "He doesn't speak English, he speaks Bengali",
    "I need a spanich translator please",
    "Chinese",
    "Creole",
    "I need a Chinese interpreter",
    "Serbo-Croatian",
    "",
    "   ",
    "🙂",
    "asdfgh",
    "hello",
    "Klingon",
    "china",
    "fransh",
    "x" * 5000,
]

DETECT_INPUTS = [
    "Necesito un intérprete, por favor. Mi hijo está herido.",
    "I need an interpreter, my son was hurt in the accident.",
    "Mwen bezwen yon entèprèt, tanpri. Pitit mwen an blese.",
    "Мне нужен переводчик, пожалуйста.",
    "Треба ми преводилац, молим вас.",
    "আমার একজন দোভাষী দরকার।",
    "ਮੈਨੂੰ ਦੁਭਾਸ਼ੀਏ ਦੀ ਲੋੜ ਹੈ",
    "통역사가 필요합니다",
    "مجھے ایک ترجمان کی ضرورت ہے۔",
    "أحتاج إلى مترجم من فضلك.",
    "मलाई दोभाषे चाहिन्छ।",
    "我需要翻译。",
    "Kailangan ko ng tagasalin.",
    "Ndashaka umusemuzi, ndakwinginze.",
    "Kuv xav tau ib tug neeg txhais lus.",
    "Hola",
]


def _stats(samples_s: list[float]) -> tuple[float, float, float, float]:
    us = sorted(s * 1e6 for s in samples_s)
    p = lambda q: us[min(len(us) - 1, int(q * len(us)))]  # noqa: E731
    return statistics.fmean(us), p(0.50), p(0.99), us[-1]


def _time(fn, inputs: list[str]) -> list[float]:
    out = []
    clock = time.perf_counter
    for text in inputs:
        start = clock()
        fn(text)
        out.append(clock() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="resolve calls")
    parser.add_argument("--detect-n", type=int, default=600, help="detect calls")
    args = parser.parse_args()

    start = time.perf_counter()
    cat = default_catalog()
    load_ms = (time.perf_counter() - start) * 1e3
    cat.detect("warm up langdetect profiles")  # first call loads ~55 profiles

    rng = random.Random(0)
    resolve_inputs = [rng.choice(RESOLVE_INPUTS) for _ in range(args.n)]
    detect_inputs = [rng.choice(DETECT_INPUTS) for _ in range(args.detect_n)]
    for text in RESOLVE_INPUTS:  # warm caches
        cat.resolve(text)

    rows = [
        ("resolve (mixed)", args.n, _stats(_time(cat.resolve, resolve_inputs))),
        (
            "resolve (fuzzy/speech only)",
            args.n // 4,
            _stats(_time(cat.resolve, [rng.choice(RESOLVE_INPUTS[25:41]) for _ in range(args.n // 4)])),
        ),
        ("detect (mixed)", args.detect_n, _stats(_time(cat.detect, detect_inputs))),
    ]
    print(f"catalog: {len(cat)} languages, loaded in {load_ms:.0f} ms")
    print(f"{'operation':<30}{'calls':>7}{'mean µs':>10}{'p50 µs':>10}{'p99 µs':>10}{'max µs':>10}")
    for name, calls, (mean, p50, p99, worst) in rows:
        print(f"{name:<30}{calls:>7}{mean:>10.1f}{p50:>10.1f}{p99:>10.1f}{worst:>10.1f}")
    resolve_p99 = rows[0][2][2]
    if resolve_p99 >= 1000:
        print("FAIL: resolve p99 is not under 1 ms", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
