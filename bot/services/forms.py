"""The flows whose answers the companion's own code reads: declared here, and only here.

Most flows are plain conversations: their answers go to the summary by what
the content says (``summary:``), and no Python names them. A few are *forms*:
code opens them at a moment of its own, or reads their answers to do
something (plan reminders, create a group, put what was agreed on someone's
record). Their flow ids, the step ids read, the step types those reads rely
on and the option ids compared against are declared once below, each with
why, so that ``companion content check`` can say, in a sentence, which
renamed or deleted step breaks what (see bot/checks.py); and so nothing else
in the code writes those ids as text.

Like Rasa's forms: what is collected is declared apart from how it is asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from flows.schema import StepType


@dataclass(frozen=True, slots=True)
class Field:
    """A step whose answer the code reads."""

    id: str
    type: StepType
    why: str
    options: tuple[str, ...] = ()
    """Option ids the code compares the answer with."""

    def of(self, answers: dict[str, Any]) -> Any:
        """This step's answer, or None."""
        return answers.get(self.id)


@dataclass(frozen=True, slots=True)
class Form:
    """A flow the code opens or reads; subclasses add its fields."""

    flow: str
    why: str
    for_role: bool = field(default=False, kw_only=True)
    """A coordinator's or facilitator's own task, never a service user's (see Reply.role_task)."""
    service_only: bool = field(default=False, kw_only=True)
    """Its answers are counted only for the whole service, never shown per person to anyone but the
    person themselves: not on the summary, not in a review, not in the FHIR export for a record."""

    def fields(self) -> tuple[Field, ...]:
        return tuple(value for item in fields(self) if isinstance(value := getattr(self, item.name), Field))


@dataclass(frozen=True, slots=True)
class Appointment(Form):
    date: Field
    time: Field
    remind: Field
    note: Field


@dataclass(frozen=True, slots=True)
class WhatWeAgreed(Form):
    change_plan: Field


@dataclass(frozen=True, slots=True)
class NewGroup(Form):
    name: Field
    timezone: Field


@dataclass(frozen=True, slots=True)
class GroupSession(Form):
    date: Field
    time: Field
    place: Field


@dataclass(frozen=True, slots=True)
class GroupMessage(Form):
    message: Field


@dataclass(frozen=True, slots=True)
class SessionFeedback(Form):
    most_useful: Field
    least_useful: Field
    level: Field


@dataclass(frozen=True, slots=True)
class MyName(Form):
    name: Field


@dataclass(frozen=True, slots=True)
class SipAgreed(Form):
    by_when: Field
    remind: Field


@dataclass(frozen=True, slots=True)
class Collaborate(Form):
    understand: Field
    listen: Field
    include: Field

    def items(self) -> tuple[Field, ...]:
        """The three CollaboRATE items, in their published order."""
        return (self.understand, self.listen, self.include)


YES = "yes"
"""The id of a yes/no step's "yes" answer (the engine's own)."""
TIMEZONES = {"london": "Europe/London", "stockholm": "Europe/Stockholm"}
"""The new_group flow's time-zone options, as IANA zones (each option id is declared below)."""

APPOINTMENT = Appointment(
    "appointment",
    "its answers plan the person's appointment reminders",
    date=Field("date", StepType.date, "the day of the appointment"),
    time=Field("time", StepType.time, "the time of the appointment"),
    remind=Field("remind", StepType.yes_no, "reminders are planned only when the answer is yes", (YES,)),
    note=Field("note", StepType.text, "shown in the reminder"),
)
QUESTIONS = Form("questions", "a reminder three days before an appointment opens it")
WHAT_WE_AGREED = WhatWeAgreed(
    "what_we_agreed",
    "a care coordinator writes it with the person (onto the person's record), or the person alone after an appointment",
    change_plan=Field(
        "change_plan", StepType.text, "when it is answered, the person is told never to stop a medicine suddenly"
    ),
)
NEW_GROUP = NewGroup(
    "new_group",
    "its answers create a facilitator's group",
    for_role=True,
    name=Field("name", StepType.text, "the group's name"),
    timezone=Field("timezone", StepType.choice, "the group's time zone, for session times", tuple(TIMEZONES)),
)
GROUP_SESSION = GroupSession(
    "group_session",
    "its answers schedule (or move) a group's session",
    for_role=True,
    date=Field("date", StepType.date, "the session's day"),
    time=Field("time", StepType.time, "the session's time"),
    place=Field("place", StepType.text, "where it is, shown in reminders"),
)
GROUP_MESSAGE = GroupMessage(
    "group_message",
    "its answer is sent to every member of the group",
    for_role=True,
    message=Field("message", StepType.text, "the facilitator's message"),
)
SESSION_FEEDBACK = SessionFeedback(
    "session_feedback",
    "its answers are the session's anonymous feedback in the facilitator's report",
    most_useful=Field("most_useful", StepType.text, "listed in the report"),
    least_useful=Field("least_useful", StepType.text, "listed in the report"),
    level=Field("level", StepType.choice, "counted in the report"),
)
MY_NAME = MyName(
    "my_name",
    "its answer is the name printed on the person's summary (and shown to those they share with)",
    name=Field("name", StepType.text, "the name"),
)

SIP_AGREED = SipAgreed(
    "sip_agreed",
    'its answers plan the follow-up ("did it happen?") on the date agreed at the SIP meeting',
    by_when=Field("by_when", StepType.date, "the follow-up is sent that morning"),
    remind=Field("remind", StepType.yes_no, "the follow-up is planned only when the answer is yes", (YES,)),
)
SIP_FOLLOW_UP = Form("sip_follow_up", "the follow-up on the date agreed at the SIP meeting opens it")
COLLABORATE = Collaborate(
    "collaborate",
    "the follow-up after an appointment offers it once; its answers are counted only for the whole service",
    service_only=True,
    understand=Field(
        "item_understand", StepType.scale, "CollaboRATE item 1, counted in `companion report collaborate`"
    ),
    listen=Field("item_listen", StepType.scale, "CollaboRATE item 2, counted in `companion report collaborate`"),
    include=Field("item_include", StepType.scale, "CollaboRATE item 3, counted in `companion report collaborate`"),
)

FORMS: tuple[Form, ...] = (
    APPOINTMENT,
    QUESTIONS,
    WHAT_WE_AGREED,
    NEW_GROUP,
    GROUP_SESSION,
    GROUP_MESSAGE,
    SESSION_FEEDBACK,
    MY_NAME,
    SIP_AGREED,
    SIP_FOLLOW_UP,
    COLLABORATE,
)
"""Every form, for the content check."""

SERVICE_ONLY = frozenset(form.flow for form in FORMS if form.service_only)
"""Flows whose answers never leave the person's own data except added up for the whole service."""
