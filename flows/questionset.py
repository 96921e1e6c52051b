"""Question sets: the data a service manager edits, as typed values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

END = "end"  # the `next` of an option or question that finishes the check-in


class QuestionKind(str, Enum):
    CHOICE = "choice"  # exactly one option
    MULTI = "multi"  # one or more options ("2 3"); an `exclusive` option stands alone
    TEXT = "text"  # free text; a skip word records no text


class OptionAction(str, Enum):
    NONE = "none"
    DEFER = "defer"  # "not a good time": end quietly and try again later
    END = "end"  # "not safe right now": no more questions, a neutral line; its signals alert at once


@dataclass(frozen=True)
class Option:
    key: str  # stable id recorded in answers ("yes", "in_person")
    label: str  # gettext msgid shown to the survivor
    words: tuple[str, ...] = ()  # extra words that select it (normalised on load)
    signals: tuple[str, ...] = ()  # safety signal names it records
    next: str | None = None  # overrides the question's next
    action: OptionAction = OptionAction.NONE
    exclusive: bool = False  # in a multi question, cannot be combined ("none of these")
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)  # inline translations: language -> label


@dataclass(frozen=True)
class Question:
    id: str
    kind: QuestionKind
    text: str  # gettext msgid; first line must pass the over-the-shoulder test
    options: tuple[Option, ...] = ()
    next: str = END
    sensitive: bool = False  # never store the raw inbound text for this question
    texts: Mapping[str, str] = field(default_factory=dict, hash=False)  # inline translations: language -> text
    rotates: bool = False  # asked in turn with the others that rotate, not at every check-in


@dataclass(frozen=True)
class Rotation:
    """Some questions are asked in turn: a few at each check-in, right after `after`, so that none goes
    unasked for more than `within` check-ins that reach them."""

    after: str
    within: int


@dataclass(frozen=True)
class QuestionSet:
    id: str
    version: int
    start: str
    questions: tuple[Question, ...]
    rotation: Rotation | None = None

    @property
    def rotating(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.rotates)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)
