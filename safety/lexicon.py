"""The words survivors type, per language: answers, skips, fillers and commands.

Everything here is written as people type it; `normalised` folds it the way survivor text is
folded (safety/normalise.py), so "Tak", "TAK" and "tak!" are one word and "dim" and "dîm" too.
A survivor's own language is understood alongside English (people switch, and the keywords in
the messages are English); commands are understood in every language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from safety.normalise import normalise

SOURCE_LANGUAGE = "en_GB"

# Each language by its own name, in its own script: what a survivor recognises in a list.
AUTONYMS: Mapping[str, str] = {
    "en_GB": "English",
    "cy": "Cymraeg",
    "pl": "Polski",
    "ro": "Română",
    "pa": "ਪੰਜਾਬੀ",
    "ur": "اردو",
    "ar": "العربية",
}
# Written right to left: channels may need to know (e.g. to keep a list of options readable).
RTL = frozenset({"ur", "ar"})

# Other names a survivor may type to pick a language ("welsh", "punjabi"), besides its number,
# its code and its own name.
LANGUAGE_NAMES: Mapping[str, tuple[str, ...]] = {
    "en_GB": ("english", "saesneg", "angielski", "engleza", "ਅੰਗਰੇਜ਼ੀ", "انگریزی", "الانجليزية", "انجليزي"),
    "cy": ("welsh", "cymraeg", "walijski", "galeza", "ਵੈਲਸ਼", "ویلش", "الويلزية"),
    "pl": ("polish", "polski", "polska", "pwyleg", "poloneza", "ਪੋਲਿਸ਼", "پولش", "البولندية"),
    "ro": ("romanian", "romana", "rumunski", "rwmaneg", "ਰੋਮਾਨੀਅਨ", "رومانین", "الرومانية"),
    "pa": ("panjabi", "punjabi", "pendjabi", "pwnjabeg", "pendzabski", "ਪੰਜਾਬੀ", "پنجابی", "البنجابية"),
    "ur": ("urdu", "wrdw", "ਉਰਦੂ", "اردو", "الأردية", "الاردية"),
    "ar": ("arabic", "arabeg", "arabski", "araba", "ਅਰਬੀ", "عربی", "العربية", "عربي"),
}

# The common answers. An option keyed yes / no / not_sure (or whose English label is exactly that
# answer) is picked by these words in the survivor's language and in English.
YES: Mapping[str, tuple[str, ...]] = {
    "en_GB": ("yes", "y", "yeah", "yep", "yup", "ok", "okay", "sure"),
    "cy": ("ie", "do", "oes", "ydw", "ydy", "yndw", "ydyn", "iawn", "ia"),
    "pl": ("tak", "t", "dobrze", "jasne", "no tak"),
    "ro": ("da", "d", "desigur", "bine"),
    "pa": ("ਹਾਂ", "ਹਾਂ ਜੀ", "ਜੀ", "ਜੀ ਹਾਂ", "haan", "haanji", "han", "ji"),
    "ur": ("ہاں", "ہاں جی", "جی", "جی ہاں", "haan", "han", "ji", "ji haan"),
    "ar": ("نعم", "أيوه", "ايوه", "ايوا", "أجل", "اكيد", "أكيد", "تمام", "aywa"),  # not "آه": a sigh of pain
}
NO: Mapping[str, tuple[str, ...]] = {
    "en_GB": ("no", "n", "nope", "nah"),
    "cy": ("na", "naddo", "nac oes", "nac ydw", "nage", "dim"),
    "pl": ("nie", "n"),
    "ro": ("nu", "n"),
    "pa": ("ਨਹੀਂ", "ਨਹੀ", "ਨਾ", "ਨਹੀਂ ਜੀ", "nahi", "nahin", "na"),
    "ur": ("نہیں", "نہ", "نا", "جی نہیں", "nahi", "nahin", "na"),
    "ar": ("لا", "لأ", "كلا", "لاء"),
}
NOT_SURE: Mapping[str, tuple[str, ...]] = {
    "en_GB": ("not sure", "unsure", "maybe", "dont know", "don't know", "idk"),
    "cy": ("ddim yn siwr", "dim yn siwr", "dwn i ddim", "dwi ddim yn gwybod", "sai'n gwybod", "efallai", "falle"),
    "pl": ("nie wiem", "nie jestem pewna", "nie jestem pewien", "nie jestem pewny", "moze", "może", "chyba"),
    "ro": ("nu stiu", "nu știu", "nu sunt sigur", "nu sunt sigura", "nu sunt sigură", "poate"),
    "pa": ("ਪਤਾ ਨਹੀਂ", "ਸ਼ਾਇਦ", "ਪੱਕਾ ਨਹੀਂ", "pata nahi", "shayad"),
    "ur": ("پتہ نہیں", "معلوم نہیں", "شاید", "یقین نہیں", "pata nahi", "shayad"),
    "ar": ("لا أعرف", "لا اعرف", "مش عارف", "مش عارفة", "ربما", "يمكن", "غير متأكد", "غير متأكدة", "مو متأكد"),
}
ANSWERS: Mapping[str, Mapping[str, tuple[str, ...]]] = {"yes": YES, "no": NO, "not_sure": NOT_SURE}

# Replies to a free-text question that mean "nothing to add", in any language.
SKIP: Mapping[str, tuple[str, ...]] = {
    "en_GB": ("skip", "no", "nothing", "none", "n/a", "na", "nope", "no thanks", "no thank you", "nothing else"),
    "cy": ("dim", "na", "dim byd", "dim diolch", "na diolch", "sgip", "hepgor"),
    "pl": ("nie", "nic", "pomin", "pomiń", "brak", "nie dziekuje", "nie, dziękuję", "nic wiecej", "nic więcej"),
    "ro": ("nu", "nimic", "sari", "sări", "nu multumesc", "nu, mulțumesc", "nimic altceva"),
    "pa": ("ਨਹੀਂ", "ਕੁਝ ਨਹੀਂ", "ਛੱਡੋ", "ਨਹੀਂ ਧੰਨਵਾਦ", "kuch nahi"),
    "ur": ("نہیں", "کچھ نہیں", "چھوڑیں", "نہیں شکریہ", "kuch nahi"),
    "ar": ("لا", "لا شيء", "لا شي", "تخطي", "تخطى", "لا شكرا"),
}

# Words that pad or join a reply without choosing anything: "2 and 3", "no thanks".
FILLERS: Mapping[str, tuple[str, ...]] = {
    "en_GB": ("and", "please", "thanks", "thank you", "thx", "cheers"),
    "cy": ("a", "ac", "plis", "diolch", "diolch yn fawr"),
    "pl": ("i", "oraz", "prosze", "proszę", "dzieki", "dzięki", "dziekuje", "dziękuję"),
    "ro": ("si", "și", "va rog", "vă rog", "multumesc", "mulțumesc", "mersi"),
    "pa": ("ਅਤੇ", "ਤੇ", "ਧੰਨਵਾਦ", "ਸ਼ੁਕਰੀਆ", "ਕਿਰਪਾ ਕਰਕੇ"),
    "ur": ("اور", "شکریہ", "مہربانی", "براہ کرم"),
    "ar": ("و", "شكرا", "شكراً", "من فضلك", "لو سمحت"),
}

# Standing commands, understood in every language (the whole message must be the command).
# The English keywords stay in every translation: carriers act on STOP/HELP in English, and a
# keyword that works everywhere is easier to hand over in person.
COMMANDS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "help": {
        "en_GB": ("help",),
        "cy": ("cymorth", "help"),
        "pl": ("pomoc",),
        "ro": ("ajutor",),
        "pa": ("ਮਦਦ", "madad"),
        "ur": ("مدد", "madad"),
        "ar": ("مساعدة", "مساعده"),
    },
    "pause": {
        "en_GB": ("pause",),
        "cy": ("saib", "oedi"),
        "pl": ("pauza", "wstrzymaj"),
        "ro": ("pauza", "pauză"),
        "pa": ("ਰੋਕੋ",),
        "ur": ("وقفہ", "روکیں"),
        "ar": ("توقف مؤقت", "ايقاف مؤقت", "إيقاف مؤقت"),
    },
    "resume": {
        "en_GB": ("resume",),
        "cy": ("ailddechrau",),
        "pl": ("wznow", "wznów"),
        "ro": ("reluare", "reia"),
        "pa": ("ਮੁੜ ਸ਼ੁਰੂ", "ਫਿਰ ਸ਼ੁਰੂ"),
        "ur": ("دوبارہ شروع",),
        "ar": ("استئناف", "استأنف"),
    },
    "withdraw": {
        "en_GB": ("withdraw",),
        "cy": ("tynnu nol", "tynnu'n ôl"),
        "pl": ("rezygnuje", "rezygnuję", "wypisz"),
        "ro": ("renunt", "renunț", "dezabonare"),
        "pa": ("ਬੰਦ ਕਰੋ",),
        "ur": ("بند کریں", "بند کرو"),
        "ar": ("إلغاء الاشتراك", "الغاء الاشتراك"),
    },
    "language": {
        "en_GB": ("language", "lang"),
        "cy": ("iaith",),
        "pl": ("jezyk", "język"),
        "ro": ("limba", "limbă"),
        "pa": ("ਭਾਸ਼ਾ", "ਬੋਲੀ"),
        "ur": ("زبان",),
        "ar": ("لغة", "اللغة"),
    },
}


# "PAUSE 3 days" in each language: the units (by how many hours each is) and the little words
# around a number that say nothing ("saib AM 3 diwrnod", "pauză 20 DE zile", "3 دن کا وقفہ").
PAUSE_UNITS: Mapping[int, Mapping[str, tuple[str, ...]]] = {
    1: {
        "cy": ("awr", "oriau"),
        "pl": ("godzina", "godzinę", "godziny", "godzin", "godz"),
        "ro": ("ora", "oră", "ore"),
        "pa": ("ਘੰਟਾ", "ਘੰਟੇ", "ਘੰਟਿਆਂ"),
        "ur": ("گھنٹہ", "گھنٹے", "گھنٹوں"),
        "ar": ("ساعة", "ساعات", "ساعتين", "ساعتان"),
    },
    24: {
        "cy": ("diwrnod", "ddiwrnod", "niwrnod", "diwrnodau", "dydd", "niwrnodau"),
        "pl": ("dzień", "dni", "dnia"),
        "ro": ("zi", "zile"),
        "pa": ("ਦਿਨ", "ਦਿਨਾਂ"),
        "ur": ("دن", "دنوں"),
        "ar": ("يوم", "أيام", "يومين", "يومان", "يومًا", "ايام"),
    },
    24 * 7: {
        "cy": ("wythnos", "wythnosau"),
        "pl": ("tydzień", "tygodnie", "tygodni", "tygodnia"),
        "ro": ("săptămână", "săptămâni"),
        "pa": ("ਹਫ਼ਤਾ", "ਹਫ਼ਤੇ", "ਹਫ਼ਤਿਆਂ"),
        "ur": ("ہفتہ", "ہفتے", "ہفتوں"),
        "ar": ("أسبوع", "أسابيع", "أسبوعين", "أسبوعان"),
    },
}
PAUSE_LINKS: tuple[str, ...] = ("am", "na", "przez", "de", "pentru", "timp de", "ਲਈ", "کا", "کے", "لیے", "لئے", "لمدة")


def normalised(words: Iterable[str]) -> tuple[str, ...]:
    """The words folded as survivor text is, without duplicates or empties, in order."""
    out: list[str] = []
    for word in words:
        folded = normalise(word)
        if folded and folded not in out:
            out.append(folded)
    return tuple(out)


def for_language(table: Mapping[str, tuple[str, ...]], language: str) -> tuple[str, ...]:
    """The survivor's language's words first, then English's, folded."""
    return normalised((*table.get(language, ()), *table.get(SOURCE_LANGUAGE, ())))


def every_language(table: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """Every language's words, folded."""
    return frozenset(normalised(word for words in table.values() for word in words))


def command_words(command: str) -> frozenset[str]:
    return every_language(COMMANDS[command])


# Every word a survivor might send as an ordinary answer or command, in any language: none of
# them may become an exit word or codeword (an honest "nie" must never end the chat).
ALL_ANSWER_WORDS: frozenset[str] = (
    every_language(YES)
    | every_language(NO)
    | every_language(NOT_SURE)
    | every_language(SKIP)
    | every_language(FILLERS)
)
ALL_COMMAND_WORDS: frozenset[str] = frozenset().union(*(command_words(c) for c in COMMANDS))
# Language names: typing "Cymraeg" to pick Welsh must never also be a codeword.
ALL_LANGUAGE_WORDS: frozenset[str] = every_language(LANGUAGE_NAMES) | frozenset(normalised(AUTONYMS.values()))
