"""Every fixed survivor-facing text the engine sends, as gettext msgids.

First lines stay neutral: a phone's notification preview shows them (the over-the-shoulder test).
"""

from __future__ import annotations

from flows.i18n import N_, Np_

NEUTRAL = N_("Sorry, this number does not accept replies.")
TEXT_ONLY = N_("Sorry, only typed text can be read here. Please type your reply.")
SENT_BY_TRANSPORTS = frozenset({TEXT_ONLY})  # not the engine: e.g. Telegram answers a sticker with it
CONSENT = N_(
    "Hi, it's {sender}. Thanks for setting this up.\n"
    "We will send a few short questions at times you choose, and share your answers with your "
    "contact. Messages are not watched all the time.\n"
    "Reply YES to agree, or NO if you do not want this."
)
CONSENT_REFUSED = N_("OK. You will not get any more messages.")
WINDOWS = N_("Thanks.\nWhen is it usually OK to message you? Reply with the numbers, e.g. 1 3")
WINDOW_MORNING = N_("Mornings (9-12)")
WINDOW_AFTERNOON = N_("Afternoons (12-5)")
WINDOW_EVENING = N_("Evenings (5-9)")
EXIT_WORD = N_("Next:\nChoose a word that ends our chat at once if you need to, for example a food. Not STOP or HELP.")
EXIT_PAUSE = N_("Next:\nAfter you use that word, how long should we wait before writing again?")
PAUSE_DAY = N_("One day")
PAUSE_THREE_DAYS = N_("Three days")
PAUSE_WEEK = N_("One week")
CODEWORD = N_(
    "Next:\nChoose a second word, different from the first. If you put it in any message, "
    "your contact will quietly get in touch urgently."
)
SECRET_REJECTED = N_("Please choose another word: up to 4 words, not a command like STOP or PAUSE.")
MISSED_CONSENT = N_("Next:\nIf you miss check-ins, may we let your contact know?")
YES = N_("Yes")
NO = N_("No")
PIN = N_("Next:\nWould you like a PIN to confirm it is you at each check-in? Reply with 4 to 8 digits, or SKIP.")
DURESS_PIN = N_(
    "Now a second PIN, different from the first. If you ever use it, everything looks normal "
    "but your contact is quietly told you need help. Reply with 4 to 8 digits, or SKIP."
)
PIN_REJECTED = N_("Please reply with 4 to 8 digits, different from any other PIN, or SKIP.")
ONBOARDED = N_("All set. Reply HELP at any time for options.\nReplies are read in working hours, not all the time.")
# The service's own discreet line (services.help_line) follows it; 999 and 55 are on the card she
# was given in person, never in the thread.
HELP = N_(
    "Options:\nPAUSE - pause for a week (or PAUSE 3 days)\nRESUME - start again\n"
    "LANGUAGE - change language\nWITHDRAW - stop for good"
)
AS_WRITTEN = "{line}"  # a service's own line (its HELP line), sent as the service wrote it: no msgid
IDLE = N_("Thanks, got it. Reply HELP for options.")
PAUSED = N_("Messages are paused. Reply RESUME to start again.")
PAUSED_DAYS = Np_("OK, paused for {count} day, until {until}.", "OK, paused for {count} days, until {until}.")
PAUSED_HOURS = Np_("OK, paused for {count} hour, until {until}.", "OK, paused for {count} hours, until {until}.")
RESUMED = N_("OK, we will start again.")
WITHDRAWN = N_("OK. You will not get any more messages.")
COVER_LINE = N_("No problem, talk soon.")
REASK = N_("Sorry, I didn't catch that. Please reply with one of the numbers.")
NUDGE = N_("Just a gentle nudge.")
PIN_PROMPT = N_("Thanks.\nPlease reply with your PIN.")
PIN_RETRY = N_("That doesn't look right. Please try again.")
PIN_ENDED = N_("Thanks. We'll be in touch.")
DEFERRED = N_("OK, no problem.")
CHECKIN_DONE = N_("Thanks, that's everything. Take care.")
# The language step: the options are each enabled language's own name, never translated.
LANGUAGE_WELCOME = N_("Hi, it's {sender}.\nWhich language would you like? Reply with a number.")
LANGUAGE_ASK = N_("Which language would you like? Reply with a number.")
# Translators: name your own language here, e.g. "yn Gymraeg", "po polsku".
LANGUAGE_SET = N_("OK, I will write in English from now on.")
