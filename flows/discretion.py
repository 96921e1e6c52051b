"""The over-the-shoulder lint: words that must never appear in a message's first line, and the longer
list that must never appear anywhere in a message that stays readable in her thread.

English words are banned in every language (a sender name or a keyword may be English), and each
language adds its own list. An entry ending in "*" bans every word that starts with it, for
languages that inflect ("bezpieczn*" is bezpieczny, bezpieczna, bezpiecznie...). Welsh words are
banned with their mutations too ("diogel" is also "ddiogel", "niogel"), Arabic ones with the
article and the joined prepositions ("الشرطة", "والشرطة"). A case reference is never allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from safety.normalise import normalise, words

# A phone's lock screen shows a message's first line to whoever holds the phone, so it must
# not reveal a domestic-abuse service. Matched as whole normalised words: "safely" or
# "Harmony" are fine, "Safe" and "SAFE!" are not.
BANNED_WORDS: frozenset[str] = frozenset(
    {
        "abuse",
        "abuser",
        "abusive",
        "domestic",
        "violence",
        "violent",
        "idva",
        "adviser",
        "advisor",
        "refuge",
        "police",
        "safe",
        "safety",
        "afraid",
        "fear",
        "danger",
        "victim",
        "survivor",
        "perpetrator",
        "marac",
        "dash",
        "assault",
        "rape",
        "harm",
        "hurt",
        "threat",
        "threats",
        "kill",
        "choking",
        "strangling",
        "weapon",
        "court",
        "bail",
        "injunction",
        "safecheck",  # the product's own name gives the service away
    }
)


# Per language, as written; folded like survivor text when the module loads.
_LANGUAGE_WORDS: Mapping[str, tuple[str, ...]] = {
    "cy": (
        "camdriniaeth", "cam-drin", "camdrin", "trais", "treisgar", "domestig", "diogel", "diogelwch",
        "heddlu", "ofn", "ofnus", "perygl", "peryglus", "dioddefwr", "dioddefwraig", "goroeswr",
        "goroeswraig", "lloches", "cynghorydd", "cynghorwr", "ymgynghorydd", "bygwth", "bygythiad",
        "bygythiadau", "lladd", "niwed", "niweidio", "brifo", "anafu", "arf", "arfau", "tagu", "llys",
        "mechnïaeth", "gwaharddeb", "ymosod", "ymosodiad", "treisio",
    ),
    "pl": (
        "przemoc*", "domow*", "bezpieczn*", "bezpieczeństw*", "niebezpiecz*", "policj*", "policjant*",
        "strach*", "boisz", "boi", "boję", "ofiar*", "sprawc*", "schronisk*", "doradc*", "groźb*",
        "grozi*", "zabi*", "zabój*", "krzywd*", "bić", "bije", "bił*", "broń", "broni", "dusz*",
        "sąd", "sądu", "sądow*", "zakaz*", "napaść", "napad*", "gwałt*", "znęca*",
    ),
    "ro": (
        "abuz*", "violenț*", "violent*", "domestic*", "siguranț*", "nesigur*", "poliți*", "frică",
        "fricii", "teamă", "temi", "pericol*", "victim*", "agresor*", "adăpost*", "consilier*",
        "amenint*", "amenințăr*", "omor*", "ucide*", "ucis*", "rănit*", "răni*", "lovit*", "armă",
        "arme", "arma", "sugruma*", "strangula*", "instanț*", "tribunal*", "ordin de protecție",
        "agresiun*", "viol*",
    ),
    "pa": (
        "ਹਿੰਸਾ", "ਘਰੇਲੂ", "ਸੁਰੱਖਿਅਤ", "ਸੁਰੱਖਿਆ", "ਪੁਲਿਸ", "ਪੁਲੀਸ", "ਡਰ", "ਡਰਦੇ", "ਡਰਦੀ", "ਖ਼ਤਰਾ", "ਖਤਰਾ",
        "ਖ਼ਤਰੇ", "ਦੁਰਵਿਹਾਰ", "ਸ਼ੋਸ਼ਣ", "ਪੀੜਤ", "ਧਮਕੀ", "ਧਮਕੀਆਂ", "ਮਾਰਨ", "ਕਤਲ", "ਹਥਿਆਰ", "ਅਦਾਲਤ",
        "ਸਲਾਹਕਾਰ", "ਹਮਲਾ", "ਗਲਾ ਘੁੱਟਣਾ", "ਸੱਟ", "ਨੁਕਸਾਨ",
    ),
    "ur": (
        "تشدد", "گھریلو", "محفوظ", "حفاظت", "تحفظ", "پولیس", "ڈر", "خوف", "خوفزدہ", "خطرہ", "خطرے",
        "زیادتی", "بدسلوکی", "متاثرہ", "دھمکی", "دھمکیاں", "دھمکیوں", "قتل", "مار", "ہتھیار", "عدالت",
        "مشیر", "پناہ گاہ", "حملہ", "نقصان", "گلا گھونٹنا",
    ),
    "ar": (
        "عنف", "اسري", "منزلي", "امن", "امنة", "امان", "سلامة", "شرطة", "خوف", "خائف", "خائفة", "خطر",
        "اساءة", "ضحية", "ناجية", "ناجي", "تهديد", "تهديدات", "قتل", "سلاح", "اسلحة", "محكمة", "مستشار",
        "مستشارة", "ملجا", "اعتداء", "ايذاء", "اذى", "خنق",
    ),
}

# Welsh initial mutations (soft, nasal, aspirate) and h- before a vowel.
_SOFT = (("p", "b"), ("t", "d"), ("c", "g"), ("b", "f"), ("d", "dd"), ("g", ""), ("m", "f"), ("ll", "l"), ("rh", "r"))
_NASAL = (("p", "mh"), ("t", "nh"), ("c", "ngh"), ("b", "m"), ("d", "n"), ("g", "ng"))
_ASPIRATE = (("p", "ph"), ("t", "th"), ("c", "ch"))
# Arabic article and joined prepositions/conjunctions that a word may carry.
_ARABIC_PREFIXES = ("", "ال", "وال", "بال", "فال", "كال", "لل", "و", "ب", "ف", "ل")
_CASE_REFERENCE = re.compile(r"\bC-[2-9A-HJ-NP-Z]{5}\b")  # as storage.crypto.new_case_ref makes them


def _welsh_forms(phrase: str) -> set[str]:
    """The phrase with its first word in every mutation Welsh grammar may give it."""
    first, space, rest = phrase.partition(" ")
    forms = {first}
    for old, new in (*_SOFT, *_NASAL, *_ASPIRATE):
        unmutating = {"p": "ph", "t": "th", "c": "ch", "d": "dd"}.get(old)
        if first.startswith(old) and not (unmutating and first.startswith(unmutating)):
            forms.add(new + first[len(old) :])
    if first[:1] in ("a", "e", "i", "o", "u", "w", "y"):
        forms.add("h" + first)
    return {form + space + rest for form in forms}


def _fold(entry: str) -> str:
    return normalise(entry.rstrip("*")) + ("*" if entry.endswith("*") else "")


def _compile(language: str, entries: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(whole words or phrases, stems) for one language, folded."""
    exact: set[str] = set()
    stems: list[str] = []
    for entry in map(_fold, entries):
        if entry.endswith("*"):
            stems.append(entry[:-1])
        elif language == "cy":
            exact |= _welsh_forms(entry)
        elif language == "ar" and " " not in entry:
            exact |= {prefix + entry for prefix in _ARABIC_PREFIXES}
        else:
            exact.add(entry)
    return frozenset(exact), tuple(stems)


_ENGLISH = _compile("en_GB", BANNED_WORDS)
_BY_LANGUAGE = {language: _compile(language, entries) for language, entries in _LANGUAGE_WORDS.items()}


# Banned anywhere in a message that stays in her thread, on top of the first-line words: what would
# explain a secret or point to help. English counts in every language, as for the first line.
_THREAD_ONLY_ENGLISH = (
    "999", "112", "55", "codeword", "code word", "pin", "passcode", "password", "secret", "exit word",
    "helpline", "frightened", "scared", "stalking", "stalker", "jealous", "controlling", "sexual",
    "strangled", "strangle", "choked", "suicide", "suicidal", "self harm", "pregnant", "separated",
)
_THREAD_ONLY_LANGUAGE: Mapping[str, tuple[str, ...]] = {
    "cy": ("cyfrinair", "gair cod", "gair cyfrin", "rhif pin", "llinell gymorth", "cynghorydd"),
    "pl": ("hasło", "hasła", "hasłem", "kod", "pinu", "pinem", "telefon zaufania"),
    "ro": ("parolă", "parola", "cuvânt cheie", "cuvântul cheie", "cod", "codul", "linie de sprijin"),
    "pa": ("ਪਿੰਨ", "ਕੋਡ", "ਕੋਡਵਰਡ", "ਪਾਸਵਰਡ", "ਹੈਲਪਲਾਈਨ", "੯੯੯"),
    "ur": ("پن", "کوڈ", "کوڈ ورڈ", "پاس ورڈ", "ہیلپ لائن", "۹۹۹"),
    "ar": ("رمز", "كلمة السر", "كلمة المرور", "الرقم السري", "خط المساعدة", "٩٩٩"),
}
# Words of a service's name too common to refuse on their own ("Northshire Support Service").
_GENERIC_NAME_WORDS = frozenset({"service", "services", "support", "team", "project", "trust", "centre", "the", "and"})


def banned_words(language: str) -> frozenset[str]:
    """The folded whole words and phrases banned from a first line in `language` (English's included)."""
    return _ENGLISH[0] | _BY_LANGUAGE.get(language, (frozenset(), ()))[0]


_THREAD_ENGLISH = _compile("en_GB", _THREAD_ONLY_ENGLISH)[0]
_THREAD_BY_LANGUAGE = {language: _compile(language, entries)[0] for language, entries in _THREAD_ONLY_LANGUAGE.items()}


def first_line(text: str) -> str:
    """Return the line a notification preview shows: the first line that is not blank."""
    # Previews skip leading blank lines, so "\nAre you safe?" shows the question itself.
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _found(text: str, language: str, exact: frozenset[str]) -> list[str]:
    """The banned words and phrases in `text`, in the order they appear, each once."""
    tokens = words(text)
    stems = _BY_LANGUAGE.get(language, (frozenset(), ()))[1]
    longest = max((len(phrase.split()) for phrase in exact), default=1)
    found: list[str] = []
    for start in range(len(tokens)):
        for size in range(1, longest + 1):
            phrase = " ".join(tokens[start : start + size])
            if start + size <= len(tokens) and phrase in exact and phrase not in found:
                found.append(phrase)
        if any(tokens[start].startswith(stem) for stem in stems) and tokens[start] not in found:
            found.append(tokens[start])
    return found


def first_line_problems(text: str, language: str = "en_GB") -> list[str]:
    """Name each banned word found in the first line of `text` (empty when it is discreet)."""
    line = first_line(text)
    found = _found(line, language, banned_words(language))
    problems = [f"first line contains {word!r}, which a phone's notification preview shows" for word in found]
    if _CASE_REFERENCE.search(line):
        problems.append("first line contains a case reference, which a phone's notification preview shows")
    return problems


def thread_words(language: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The folded words and phrases banned anywhere in a message that must pass on its whole body:
    the first-line words, the secrets and the emergency numbers, and `extra` (the service's name)."""
    names: set[str] = set()
    for name in extra:
        folded = normalise(name)
        if folded:
            names.add(folded)  # the whole name, and each of its own words
            names |= {w for w in folded.split() if len(w) >= 4 and w not in _GENERIC_NAME_WORDS}
    own = _THREAD_BY_LANGUAGE.get(language, frozenset())
    return banned_words(language) | _THREAD_ENGLISH | own | frozenset(names)


def thread_problems(text: str, language: str = "en_GB", extra: Iterable[str] = ()) -> list[str]:
    """Name each banned word anywhere in `text`: for messages that stay readable in her thread.

    `extra`: more names to refuse, such as the service's own name.
    """
    found = _found(text, language, thread_words(language, extra))
    problems = [f"contains {word!r}, which anyone who reads her messages would see" for word in found]
    if _CASE_REFERENCE.search(text):
        problems.append("contains a case reference, which anyone who reads her messages would see")
    return problems
