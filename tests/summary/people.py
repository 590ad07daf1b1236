"""Plans for test people: what a typical person writes, in English and Swedish."""

from __future__ import annotations

TYPICAL = {
    "en": {
        "me_test": {
            "power": "I’m Sam, a dad of two and a keen gardener. I want medicine that keeps the voices quiet "
            "but lets me stay awake for my kids — it can’t make me too sleepy to drive.",
            "goal": "Get back to my allotment three mornings a week.",
            "first_step": "Go once this week with my brother.",
            "confidence": 6,
        },
        "staying_well": {
            "helps": ["walking", "music", "friends"],
            "own_help": ["Cooking a proper meal on Sundays"],
            "works": 7,
            "side_effects": ["tired", "weight"],
            "concern": "I sleep ten hours and still feel slow in the morning.",
            "in_the_way": "yes",
        },
        "speak_up": {"one_thing": "I want to try a lower dose, slowly and with your help."},
        "asking": {
            "common": ["options", "pros_cons", "driving"],
            "own": ["Could I take it in the evening instead?", "Is the weight gain from the tablets?"],
            "top_three": ["own.1", "options", "driving"],
            "sure_sure": "no",
            "sure_know": "yes",
            "sure_values": "yes",
            "sure_support": "yes",
        },
    },
    "sv": {
        "me_test": {
            "power": "Jag heter Åsa och är mamma till två. Jag vill ha en medicin som dämpar oron men låter mig "
            "orka med barnen – den får inte göra mig för trött för att köra bil.",
            "goal": "Börja sjunga i kören igen på torsdagar.",
            "first_step": "Ringa körledaren i veckan.",
            "confidence": 5,
        },
        "staying_well": {
            "helps": ["walking", "sleep", "faith"],
            "own_help": ["Laga mat på söndagar"],
            "works": 6,
            "side_effects": ["tired", "restless"],
            "concern": "Jag sover länge men är ändå trög på förmiddagen.",
            "in_the_way": "no",
        },
        "speak_up": {"one_thing": "Jag vill prova en lägre dos, långsamt och med ert stöd."},
        "asking": {
            "common": ["options", "support"],
            "own": ["Kan jag ta den på kvällen i stället?"],
            "top_three": ["support", "own.1"],
            "sure_sure": "yes",
            "sure_know": "yes",
            "sure_values": "yes",
            "sure_support": "yes",
        },
    },
}
