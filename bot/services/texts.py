"""The interface texts the code asks for: declared here, and only here.

The companion's own words (buttons, re-asks, menus, replies) live in
``content/ui/<area>.<language>.yaml`` so that an author can change them
without touching code. The code asks for them by key; a key that is renamed
or deleted in the content would reach people as "something went wrong" (a
stale button press would crash on ``tg_moved_on``). So every key the code
asks for is declared below, per feature, with the file it belongs in and
what it is for, and ``companion content check`` fails, per language, with a
sentence naming the file and the key when one is missing (bot/checks.py).

Keys the code forms from a pattern (``f"reminder_{kind}"``) are declared as
their whole set with :func:`family`. ``tests/test_texts_contract.py`` reads
the source and fails on a key the code uses that is not declared here, so
the declaration cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field


def family(template: str, values: Iterable[str]) -> frozenset[str]:
    """The keys a pattern such as ``"tg_command_{name}"`` forms, one per value."""
    (name,) = {part.split("}", 1)[0] for part in template.split("{")[1:]}
    return frozenset(template.format(**{name: value}) for value in values)


@dataclass(frozen=True, slots=True)
class Texts:
    """The keys one feature asks for, all kept in one ui file (per language)."""

    area: str
    """The file's first name: "telegram" is ui/telegram.en.yaml and ui/telegram.sv.yaml; "" is ui/en.yaml."""
    why: str
    """What these words are, as the end of a sentence: "(… the companion's own buttons …)"."""
    keys: frozenset[str]
    said: Mapping[str, str] = field(default_factory=dict)
    """For keys whose loss would hurt most: when the companion says it."""
    templates: tuple[str, ...] = ()
    """Patterns the code forms keys with (each key they form is in ``keys``)."""

    def file(self, language: str) -> str:
        return f"ui/{self.area}.{language}.yaml" if self.area else f"ui/{language}.yaml"

    def why_of(self, key: str) -> str:
        return self.said.get(key, self.why)


def _keys(text: str) -> frozenset[str]:
    return frozenset(text.split())


MENU_STATES = ("not_started", "in_progress")
"""A part's progress as the menu shows it (``menu_<state>``; done has a date: ``menu_done``)."""
PUBLIC_COMMANDS = (
    "start",
    "menu",
    "summary",
    "help",
    "cancel",
    "language",
    "mydata",
    "delete",
    "share",
    "sharing",
    "privacy",
)
"""Commands in everyone's Telegram menu, each described by ``tg_command_<name>``."""
ROLE_COMMANDS = ("people", "link", "groups", "report")
"""Commands in a role holder's Telegram menu, each described by ``role_command_<name>``."""
APPOINTMENT_REMINDERS = ("appointment_questions", "appointment_summary", "appointment_followup")
"""The kinds of appointment reminder, each worded by ``reminder_<kind>``."""

ENGINE = Texts(
    "",
    "one of the words every conversation uses: buttons, hints and the kind re-asks",
    _keys(
        """
        button_back button_skip button_pause button_next button_done button_keep button_why
        button_yes button_no button_add_another button_no_more button_use_suggestion
        button_today button_in_a_week button_in_two_weeks button_in_four_weeks
        hint_text hint_checklist hint_checklist_limit hint_scale hint_date hint_time
        your_answer not_answered
        empty too_long use_typing unknown_option not_a_number out_of_range not_a_date not_a_time
        date_in_past date_in_future pick_one tick_then_done pick_limit required words_not_counted doing_again your_answer_last_time
        first_question paused restarted content_changed flow_done
        words_yes words_no words_none nothing_to_add words_today words_tomorrow
        """
    ),
    said={
        "content_changed": "said when a conversation's content changed while someone was in it",
        "unknown_option": "the re-ask when an answer is not one of the choices",
    },
)
WELCOME = Texts(
    "",
    "the welcome, consent and menu words, on Telegram and in the console",
    _keys(
        """
        welcome not_for_emergencies privacy consent_question button_agree button_decline declined agreed
        menu_intro menu_done welcome_back nothing_open
        """
    )
    | family("menu_{state}", MENU_STATES),
    said={
        "not_for_emergencies": "the welcome says the companion is not for emergencies and nobody reads messages",
        "privacy": "it says what is kept before anyone agrees to anything",
        "consent_question": "it asks before anything is saved",
    },
    templates=("menu_{state}",),
)
CONSOLE = Texts(
    "",
    "one of the console chat's own words",
    _keys(
        """
        words_back words_skip words_pause words_restart words_why words_done words_keep words_quit
        """
    ),
)
CONSOLE_MENU = Texts(
    "console",
    "one of the console chat's own words",
    _keys(
        """
        console_action_summary console_action_name console_action_language console_action_share
        console_action_export console_action_delete console_more console_keep_sharing
        console_summary_saved console_export_saved console_export_filename console_file_failed
        console_quit console_saved_bye console_bye console_unknown_menu
        """
    ),
)
TELEGRAM = Texts(
    "telegram",
    "one of the Telegram chat's own messages or buttons",
    _keys(
        """
        tg_consent_first tg_help tg_moved_on tg_only_text tg_ticked tg_unticked tg_answer_echo tg_type_instead tg_or
        button_tg_english button_tg_swedish tg_language_question tg_language_set
        tg_nothing_kept tg_mydata_caption tg_delete_question button_tg_delete_yes button_tg_delete_no
        tg_delete_kept tg_deleted tg_error
        button_tg_summary_missing button_tg_summary_name button_tg_summary_print tg_summary_filename tg_summary_caption
        """
    )
    | family("tg_command_{name}", PUBLIC_COMMANDS[:8]),
    said={
        "tg_moved_on": "the bot says it when someone presses an old button",
        "tg_error": "the bot says it when something goes wrong, instead of saying nothing",
        "tg_only_text": "the bot says it when someone sends a photo, voice note or sticker",
        "tg_delete_question": "the bot asks it before erasing everything kept about a person",
        "tg_consent_first": "the bot says it to someone who has not agreed yet",
    },
    templates=("tg_command_{name}",),
)
SAFETY = Texts(
    "safety",
    "one of the words of the crisis safety question and what follows it",
    _keys(
        """
        safety_question button_safety_yes button_safety_no button_safety_rather_not
        safety_thanks_kept safety_thanks safety_after_card_held safety_after_card
        button_safety_save button_safety_carry_on button_safety_pause safety_saved safety_not_held
        safety_supporter_question safety_help_line safety_medicine
        """
    ),
    said={
        "safety_question": "the direct safety question asked when the signs of a crisis are indirect",
        "safety_supporter_question": "the question asked of someone worried about another person",
        "safety_medicine": "it tells a person not to stop a medicine suddenly without their prescriber",
    },
)
SUMMARY = Texts(
    "summary",
    "one of the words of the printed summary or of /summary",
    _keys(
        """
        summary_heading summary_name summary_prepared summary_answers_from summary_scale summary_shortened
        summary_other_script summary_footer summary_nothing_yet summary_nothing_yet_no_flow summary_preview_more
        summary_missing_intro summary_missing_in_progress summary_missing_none summary_more_items
        summary_continued summary_page_of
        """
    ),
    said={"summary_shortened": "the summary says where the whole of a shortened answer is"},
)
REMINDERS = Texts(
    "reminders",
    "one of the words of appointment and session reminders",
    _keys(
        """
        reminder_weekdays reminder_months reminder_date reminder_appointment_note reminder_appointment_no_summary
        reminder_session reminder_session_place reminder_session_mute reminder_calendar_file
        reminder_session_moved reminder_session_cancelled reminder_calendar_update reminder_calendar_cancel
        button_rm_questions button_rm_agreed button_rm_mute
        rm_appointment_set rm_appointment_no_reminders rm_appointment_need_time rm_appointment_past
        button_rm_collaborate rm_collaborate_done rm_collaborate_closed
        reminder_sip_follow_up button_rm_sip_follow_up rm_sip_set rm_sip_not_wanted rm_sip_need_date rm_sip_past
        """
    )
    | family("reminder_{kind}", APPOINTMENT_REMINDERS),
    said={
        "rm_appointment_set": "the person is told their appointment reminders are planned",
        "reminder_sip_follow_up": "the SIP follow-up asks on the agreed day whether the plan happened",
    },
    templates=("reminder_{kind}",),
)
ROLES = Texts(
    "roles",
    "one of the words of invitations, sharing with a care coordinator, and review together",
    _keys(
        """
        roles_invite_bad roles_granted_coordinator roles_granted_facilitator roles_shown_as roles_coordinators_only
        roles_share_explain roles_share_sections_later roles_share_sections_empty roles_share_name
        roles_share_no_name roles_share_question button_roles_share_yes button_roles_share_no button_roles_add_name
        roles_share_declined roles_share_code roles_share_link roles_sharing_none roles_sharing_list
        roles_sharing_item button_roles_stop roles_stopped roles_already_stopped roles_told_linked button_roles_undo
        roles_unnamed_coordinator roles_person_unnamed roles_link_how roles_link_done roles_link_failed
        roles_link_too_many roles_people_none roles_people_intro roles_people_item button_roles_summary
        button_roles_review roles_no_access roles_summary_filename roles_summary_caption roles_summary_empty
        roles_review_intro roles_review_part roles_review_empty button_roles_agree roles_agreed_start
        roles_agreed_sent roles_agreed_not_delivered roles_agreed_not_saved roles_agreed_for_person
        roles_agreed_medicine_care roles_share_ended roles_draft_kept button_roles_drafts roles_agreed_draft
        roles_drafts_none roles_drafts_intro roles_draft_item button_roles_draft_discard roles_draft_discarded
        """
    )
    | family("tg_command_{name}", PUBLIC_COMMANDS[8:10])
    | family("role_command_{name}", ROLE_COMMANDS),
    said={
        "roles_share_explain": "it says exactly what a care coordinator will see before a person shares",
        "roles_share_ended": "a coordinator is told at once that the person stopped sharing",
        "roles_agreed_medicine_care": "what was agreed tells the person not to stop a medicine suddenly",
    },
    templates=("tg_command_{name}", "role_command_{name}"),
)
GROUPS = Texts(
    "groups",
    "one of the words of group sessions, for facilitators and members",
    _keys(
        """
        gr_for_facilitators gr_your_groups gr_list_intro gr_list_empty gr_report_which gr_not_yours gr_panel
        gr_panel_leads gr_panel_next gr_panel_no_sessions gr_session_when gr_lead_day gr_lead_days gr_lead_hours
        gr_lead_minutes gr_lead_none gr_leads_question gr_leads_set gr_invite_explain gr_invite_link
        gr_members_none gr_members_intro gr_member_listening gr_member_muted gr_no_name gr_no_past_sessions
        gr_which_session gr_attendance_intro gr_report_title gr_report_no_sessions gr_report_came
        gr_report_not_marked gr_report_answers gr_report_held_back gr_report_levels gr_report_most
        gr_report_least gr_default_name gr_created gr_session_need_time gr_session_past gr_session_set
        gr_message_empty gr_message_sent gr_link_unknown gr_already_member gr_join_explain gr_not_joined
        gr_group_full gr_joined gr_not_member gr_muted gr_unmuted gr_left gr_feedback_offer gr_attendance_ask
        gr_message_from button_gr_new button_gr_schedule button_gr_invite button_gr_members button_gr_leads
        button_gr_message button_gr_who_came button_gr_report button_gr_new_link button_gr_back button_gr_join
        button_gr_not_now button_gr_unmute button_gr_mute_named button_gr_unmute_named button_gr_leave_named
        button_gr_feedback button_gr_attendance button_gr_change button_gr_move button_gr_cancel_session
        button_gr_cancel_yes button_gr_keep_session gr_no_upcoming gr_session_choices gr_cancel_confirm
        gr_session_cancelled gr_session_moved
        """
    ),
    said={"gr_join_explain": "it says what joining a group means before anyone joins"},
)
WORKSHEETS = Texts(
    "worksheets",
    "one of the words of the paper worksheets (`companion worksheets`)",
    _keys(
        """
        worksheet_title worksheet_intro worksheet_date worksheet_time worksheet_tick_one worksheet_tick_any
        worksheet_tick_up_to worksheet_scale worksheet_from_earlier worksheet_why worksheet_suggest worksheet_required
        worksheet_and worksheet_or worksheet_go_to worksheet_go_to_end worksheet_otherwise_go_to
        worksheet_otherwise_end worksheet_now_go_to worksheet_now_end worksheet_finished worksheet_help_now
        worksheet_page_of
        """
    )
    | family("worksheet_if_{comparison}", ("is", "is_not", "has", "answered", "not_answered", "at_least", "at_most")),
    said={
        "worksheet_help_now": "every worksheet page says it is not for emergencies and gives the crisis numbers",
        "worksheet_intro": "every worksheet says kindly that any question can be left out",
    },
    templates=("worksheet_if_{comparison}",),
)

ORGANISATION = Texts(
    "organisation",
    "one of the words of /privacy or the bot's description, which an organisation's folder may replace",
    _keys(
        """
        org_name org_controller org_lawful_basis org_retention org_privacy_notice
        tg_privacy_controller tg_privacy_retention tg_privacy_telegram tg_command_privacy
        tg_description tg_short_description
        """
    ),
    said={
        "org_controller": "/privacy names who is responsible for a person's data",
        "tg_privacy_telegram": "/privacy says that Telegram keeps the chat after /delete",
    },
)

TEXTS: tuple[Texts, ...] = (
    ENGINE,
    WELCOME,
    CONSOLE,
    CONSOLE_MENU,
    TELEGRAM,
    SAFETY,
    SUMMARY,
    REMINDERS,
    ROLES,
    GROUPS,
    WORKSHEETS,
    ORGANISATION,
)
"""Every declaration, for the content check."""


def declared() -> Iterator[tuple[str, Texts]]:
    """Every declared key with its declaration."""
    for texts in TEXTS:
        for key in sorted(texts.keys):
            yield key, texts
