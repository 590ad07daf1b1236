"""The "ordinary answers" fixture: what a typical person writes, in every shipped flow.

"Ordinary" means what people wrote in the ShIMME-style sessions the content is
modelled on, and what the review's walk-throughs typed:

- every part of the companion meant for everyone done once, in the menu's
  order, plus "What we agreed" from last time, the appointment and the name on
  the summary (the SIP meeting, for some people only, is in tests/test_sip.py);
- typed answers of one or two short sentences: 20 to 110 letters, the power
  statement (made from three short answers) about 220;
- one typed item where a question can repeat (one own question, one other
  thing that helps, one "who does what");
- checklists with one to three ticks, "Something else" ticked once with its
  few words typed;
- the middle of each scale; one SURE question answered "no";
- the practice in "Practise what I want to say" done once, with a reply.

Text steps of the SURE and branching questions are answered so every part of
the summary has something in it (this is the busiest ordinary page).
"""

from __future__ import annotations

from typing import Any

POWER = {
    "en": "I am a dad of two and a keen gardener. I want my medicine to help me keep the voices quiet. "
    "It must not get in the way of driving my kids to school. "
    "I would like us to make decisions about my medicine together.",
    "sv": "Jag är pappa till två och tycker om att odla. Jag vill att min medicin hjälper mig att hålla rösterna "
    "borta. Den får inte stå i vägen för att köra barnen till skolan. "
    "Jag vill att vi fattar beslut om min medicin tillsammans.",
}

ORDINARY: dict[str, dict[str, dict[str, Any]]] = {
    "en": {
        "goals": {
            "areas": ["relationships", "work", "other"],
            "other_area": "My allotment",
            "important": "Seeing my children every weekend.",
            "focus": ["work"],
            "goal": "I want to go back to work two days a week.",
            "first_step": "Call my old boss to say hello.",
            "step_when": "+14",
            "helpers": ["family"],
            "confidence": 6,
            "treatment_help": "think clearly in the mornings",
        },
        "personal_medicine": {
            "meaning": ["parent", "nature"],
            "self_care": ["walking", "music"],
            "own_medicine": ["Cooking a proper meal on Sundays"],
            "helps_most": "walking",
            "takes_medicine": "yes",
            "medicine_names": "Quetiapine 100 mg at night",
            "how_well": 6,
            "side_effects": ["sleepy", "weight", "other"],
            "other_effect": "My hands feel stiff",
            "in_the_way": "a_little",
            "in_the_way_what": "I am too sleepy in the morning to take my son to school.",
            "concerns": ["side_effects", "take_less"],
            "more_to_say": "I forget the evening dose about once a week.",
            "who_i_am": "a dad of two and a keen gardener",
            "help_me": "keep the voices quiet",
            "must_not": "driving my kids to school",
            "power_statement": POWER["en"],
        },
        "assertiveness": {
            "confidence_before": 4,
            "start_with": "practise",
            "situation": "lower_dose",
            "reply": "I feel much better now. I would like to talk about a lower dose, slowly.",
            "self_check": ["said_feel", "said_want"],
            "try_again": "finish",
            "one_thing": "I want to try a lower dose, slowly and with your help.",
            "confidence_after": 6,
        },
        "questions": {
            "three_questions": ["options", "pros_cons"],
            "about_medicine": ["side_effects", "driving"],
            "changing": ["lower_dose"],
            "other_options": ["therapy"],
            "support_info": ["contact"],
            "own": ["Could I take it in the evening instead?"],
            "top_three": ["lower_dose", "own.1", "driving"],
            "decision_coming": "yes",
            "decision_what": "Whether to lower my dose.",
            "sure_sure": "no",
            "sure_know": "yes",
            "sure_values": "yes",
            "sure_support": "yes",
        },
        "appointment": {
            "date": "+14",
            "time": "14:00",
            "with_whom": "doctor",
            "note": "Bring my sister.",
            "remind": "no",
        },
        "my_name": {"name": "Sam"},
        "print_size": {"large_print": "no"},
    },
    "sv": {
        "goals": {
            "areas": ["relationships", "work", "other"],
            "other_area": "Min koloniträdgård",
            "important": "Att träffa mina barn varje helg.",
            "focus": ["work"],
            "goal": "Jag vill börja jobba två dagar i veckan igen.",
            "first_step": "Ringa min gamla chef och säga hej.",
            "step_when": "+14",
            "helpers": ["family"],
            "confidence": 6,
            "treatment_help": "tänka klart på morgonen",
        },
        "personal_medicine": {
            "meaning": ["parent", "nature"],
            "self_care": ["walking", "music"],
            "own_medicine": ["Laga riktig mat på söndagar"],
            "helps_most": "walking",
            "takes_medicine": "yes",
            "medicine_names": "Quetiapin 100 mg på kvällen",
            "how_well": 6,
            "side_effects": ["sleepy", "weight", "other"],
            "other_effect": "Mina händer känns stela",
            "in_the_way": "a_little",
            "in_the_way_what": "Jag är för trött på morgonen för att följa min son till skolan.",
            "concerns": ["side_effects", "take_less"],
            "more_to_say": "Jag glömmer kvällsdosen ungefär en gång i veckan.",
            "who_i_am": "pappa till två och tycker om att odla",
            "help_me": "hålla rösterna borta",
            "must_not": "att köra barnen till skolan",
            "power_statement": POWER["sv"],
        },
        "assertiveness": {
            "confidence_before": 4,
            "start_with": "practise",
            "situation": "lower_dose",
            "reply": "Jag mår mycket bättre nu. Jag vill prata om en lägre dos, i lugn takt.",
            "self_check": ["said_feel", "said_want"],
            "try_again": "finish",
            "one_thing": "Jag vill prova en lägre dos, långsamt och med ert stöd.",
            "confidence_after": 6,
        },
        "questions": {
            "three_questions": ["options", "pros_cons"],
            "about_medicine": ["side_effects", "driving"],
            "changing": ["lower_dose"],
            "other_options": ["therapy"],
            "support_info": ["contact"],
            "own": ["Kan jag ta den på kvällen i stället?"],
            "top_three": ["lower_dose", "own.1", "driving"],
            "decision_coming": "yes",
            "decision_what": "Om jag ska minska dosen.",
            "sure_sure": "no",
            "sure_know": "yes",
            "sure_values": "yes",
            "sure_support": "yes",
        },
        "appointment": {
            "date": "+14",
            "time": "14:00",
            "with_whom": "doctor",
            "note": "Ta med min syster.",
            "remind": "no",
        },
        "my_name": {"name": "Sam"},
        "print_size": {"large_print": "no"},
    },
}
LAST_TIME = {
    "en": {
        "will_do": "walk every morning and write down how I sleep",
        "who_does_what": ["My nurse will ring me in two weeks."],
        "medicine_change": "no",
        "review_date": "+28",
    },
    "sv": {
        "will_do": "gå en promenad varje morgon och skriva ner hur jag sover",
        "who_does_what": ["Min sjuksköterska ringer mig om två veckor."],
        "medicine_change": "no",
        "review_date": "+28",
    },
}
