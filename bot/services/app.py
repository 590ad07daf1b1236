"""Every service, built once per process and composed explicitly: the one place listeners are attached.

An adapter gets a :class:`Services` and nothing else: it never sees the
database. Listeners (what happens, inside the turn's transaction, when
someone finishes a form flow) are attached here, by name, rather than by
whichever module happened to be imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services import forms, sip
from bot.services.appointments import Appointments
from bot.services.collaborate import Collaboration
from bot.services.conversation import Companion
from bot.services.coordination import Coordination
from bot.services.groups import Groups
from bot.services.ordering import UpdateOrder
from bot.services.outbox import Outbox
from bot.services.privacy import Privacy
from bot.services.reminders import Reminders
from bot.services.sharing import Sharing
from bot.services.summaries import Summaries
from bot.services.words import Words


@dataclass(frozen=True, slots=True)
class Services:
    conversation: Companion
    privacy: Privacy
    summaries: Summaries
    sharing: Sharing
    coordination: Coordination
    groups: Groups
    appointments: Appointments
    reminders: Reminders
    words: Words
    order: UpdateOrder
    """Keeps a person's updates in update-id order across webhook processes."""
    collaboration: Collaboration
    outbox: Outbox

    @classmethod
    def around(cls, conversation: Companion) -> Services:
        """The services sharing one conversation service's storage, engine and clock."""
        storage, engine, clock = conversation.storage, conversation.engine, conversation.clock
        summaries = Summaries(storage, engine, clock)
        coordination = Coordination(conversation)
        groups = Groups(conversation)
        services = cls(
            conversation=conversation,
            privacy=Privacy(storage),
            summaries=summaries,
            sharing=Sharing(storage, summaries, clock),
            coordination=coordination,
            groups=groups,
            appointments=Appointments(storage, clock),
            reminders=Reminders(storage, engine, clock),
            words=Words(engine.catalog.ui),
            order=UpdateOrder(storage),
            collaboration=Collaboration(storage, engine.catalog, clock),
            outbox=Outbox(storage),
        )
        conversation.when_finished(forms.MY_NAME.flow, Summaries.remember_name)
        conversation.when_finished(forms.WHAT_WE_AGREED.flow, coordination.agreement_finished)
        conversation.when_finished(forms.APPOINTMENT.flow, Appointments.finished)
        conversation.when_finished(forms.SIP_AGREED.flow, sip.finished)
        groups.attach()
        return services
