"""A question about the world: nobody present, asked as a question. Such a message, when the topic classifier
recognises an FAQ topic in it, is answered with that topic, not with the safe path (see ChoiceAndInputGuard).

Emergencies name someone present (the writer, "mijn collega", "help") or are not asked as a question; a
question such as "blijven pooiers die vrouwen slaan strafbaar?" asks about the world.
"""
from __future__ import annotations

from vraagbaak.core.normalise import normalise
from vraagbaak.core.safety.cues import signals

# Words a Dutch question starts with: question words and the verbs of an inverted question.
QUESTION_STARTS = frozenset(
    "wat waarom hoe wie welke welk wanneer waar is zijn blijven blijft worden wordt kan kunnen mag mogen moet"
    " moeten heeft hebben doet doen klopt kloppen bestaat bestaan gaat gaan komt komen staat staan steunt steunen"
    " vindt vinden zou zouden zal zullen krijgen krijgt helpt helpen werkt werken durven durft leidt leiden".split()
)


# Someone present: the writer, someone they are with, "help". Not "we" or "ze": in a question those are most
# often society or people in general ("krijgen we dan meer mensenhandel?").
PRESENT = frozenset(
    "ik me mij mijn mezelf mijzelf i my myself moi mon ma mes help hulp hij hem he him il collega vriendin"
    " vriend zus dochter zoon kamer hier".split()
)


def asks_about_the_world(text: str) -> bool:
    """True for a question in which nobody is present: no first person, no one the writer is with, no 'help'.

    A medical question is never one: bleeding or a drink that was spiked may be an emergency however asked.
    """
    folded = normalise(text)
    words = folded.split()
    question = "?" in words or (bool(words) and words[0] in QUESTION_STARTS)
    someone = any(w in PRESENT for w in words)
    return question and not someone and not signals(folded).counts.get("medisch")
