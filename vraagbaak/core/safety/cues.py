"""Signals in a normalised text: words of danger, of urgency, and of framings that make it not acute.

The classifier learns how much each signal weighs; the signals themselves are written from the kinds of
danger the bot must recognise, so that a kind of danger worded in a way no training phrasing foresaw still
lights up the shared "danger" signal. All kinds of danger feed one count on purpose: a weight learned from
knives and locked doors then also carries a fire or an overdose (measured by leaving one kind out).
Patterns match the output of `vraagbaak.core.normalise.normalise`: lower case, no accents, spaced tokens.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Pattern, Tuple

# Each kind of danger: stems and phrases, as regular expressions matched at word starts.
DANGER: Dict[str, Tuple[str, ...]] = {
    "geweld": (
        r"sla(at|an|ag|agt)?\b", r"geslagen", r"slaan", r"klop(t|pen)\b", r"in elkaar", r"schop", r"stomp",
        r"wurg", r"keel", r"knijp", r"mes(sen)?\b", r"pistool", r"geweer", r"wapen", r"vermoord", r"afmaken",
        r"af te maken", r"dood ?maken", r"aanval", r"aangevallen", r"mishandel", r"pijn (doen|gedaan)",
        r"duwt", r"steek", r"gestoken", r"bijt", r"breekt", r"breken", r"trapt", r"gooit", r"frapp", r"tape",
        r"hit(s|ting)? me", r"beat", r"kill", r"knife", r"gun\b", r"hurt", r"cogne", r"couteau", r"tue",
        r"agressief", r"razend", r"woedend", r"slaag",
    ),
    "vast": (
        r"opgesloten", r"opsluit", r"sluit .{0,20}op\b", r"op slot", r"vastgehouden", r"vast\b", r"zit vast",
        r"laat me niet", r"laten me niet", r"laat mij niet", r"laten mij niet", r"mag niet (weg|buiten|naar)",
        r"kan niet (weg|buiten|eruit|naar buiten|vluchten)", r"kan hier niet weg", r"niet weg", r"niet buiten",
        r"paspoort", r"papieren", r"identiteitskaart", r"\bid\b", r"afgepakt", r"afgenomen", r"ingepikt",
        r"ontvoer", r"moet werken", r"gedwongen", r"dwingt", r"dwingen", r"verplicht", r"won'?t let",
        r"let me go", r"locked", r"lock", r"enferm", r"bloqu", r"prisonn", r"trapped", r"gevangen",
        r"opgesloten", r"sleutel",
    ),
    "mensenhandel": (
        r"mensenhandel", r"verhandeld", r"verkocht", r"gekocht", r"schuld", r"terugbetalen", r"afbetalen",
        r"traffick", r"traite", r"hierheen gebracht", r"naar hier gebracht", r"gesmokkeld", r"uitgebuit",
        r"uitbuit",
    ),
    "dreiging": (
        r"bedreig", r"dreig", r"volgt", r"gevolgd", r"achtervolg", r"aan (de|mijn) deur", r"voor (de|mijn) deur",
        r"aan (het|mijn) raam", r"staat buiten", r"wacht (op|me|mij)", r"stalk", r"chanteer", r"chantage",
        r"afpers", r"follow", r"menac", r"threat", r"weet waar ik (woon|ben)", r"komt (eraan|terug|zo)",
        r"komen (eraan|terug)", r"gaat me", r"gaan me", r"zal me",
    ),
    "seksueel_geweld": (
        r"verkracht", r"aangerand", r"misbruikt", r"misbruik", r"tegen mijn wil", r"rape", r"raped", r"viol",
        r"gedwongen seks", r"zonder condoom", r"condoom (af|uit)", r"stealth", r"agress",
    ),
    "medisch": (
        r"bloed", r"bloedt", r"bewusteloos", r"reageert niet", r"adem", r"ademen", r"overdosis", r"overdose",
        r"flauw", r"drankje", r"gedrogeerd", r"drogeerd", r"in mijn (drank|glas)", r"ambulance", r"niet wakker",
        r"stuip", r"bleed", r"unconscious", r"breathe", r"respir", r"saign", r"inconscient", r"wond",
        r"gebroken", r"duizelig", r"draait (alles|de kamer)", r"kan niet meer staan", r"pijn", r"ghb",
        r"zwanger .{0,20}bloed", r"ligt op de grond", r"valt flauw",
    ),
    "voertuig": (
        r"auto", r"wagen", r"busje", r"bestelwagen", r"camionette", r"taxi", r"rijdt", r"rijden", r"stopt niet",
        r"uitstappen", r"uitstap", r"snelweg", r"car\b", r"voiture", r"van\b.{0,10}(lock|slot)", r"kofferbak",
        r"verkeerde (kant|richting|weg)", r"andere richting",
    ),
    "brand": (
        r"brand", r"rook", r"vuur", r"gaslucht", r"gas\b", r"vlam", r"fire", r"smoke", r"feu\b", r"fumee",
        r"ontploff", r"explo", r"stroomdraad", r"elektrocut", r"instort", r"overstroom",
    ),
    "zelfbeschadiging": (
        r"zelfmoord", r"suicid", r"einde? aan (mijn leven |alles |het )?(te )?maken", r"niet meer (leven|verder)",
        r"wil dood", r"wil sterven", r"wil er niet meer zijn", r"mezelf", r"mijzelf", r"pillen", r"snijd",
        r"snij ", r"polsen", r"springen", r"spring ", r"kill myself", r"end it", r"me tuer", r"en finir",
        r"ophang", r"geen zin meer", r"leven heeft geen zin", r"wil niet meer", r"afscheidsbrief", r"alles ophoud",
        r"uit het leven",
    ),
    "angst": (
        r"bang", r"angst", r"durf niet", r"durf .{0,15}niet", r"afraid", r"scared", r"peur", r"paniek", r"panic",
        r"trillen", r"tril", r"doodsbang", r"verstopt", r"verstop", r"schuil", r"gevlucht",
    ),
    "dader": (
        r"pooier", r"pimp", r"souteneur", r"mac\b", r"proxenete", r"loverboy", r"baas", r"klant", r"vriend",
        r"partner", r"man\b", r"ex\b", r"hij\b", r"ze\b", r"zij\b", r"iemand", r"mannen", r"boss", r"client",
        r"madam", r"eigenaar", r"uitbater",
    ),
}
URGENCY: Tuple[str, ...] = (
    r"help", r"hulp", r"nu\b", r"meteen", r"snel", r"dringend", r"112", r"bel(len)?\b", r"sos\b", r"secours",
    r"aidez", r"aide", r"please", r"alsjeblieft", r"now\b", r"vanavond", r"vannacht", r"hier\b", r"nog (altijd|steeds)",
    r"zo meteen", r"net\b", r"zonet", r"zojuist", r"daarnet", r"juist", r"!", r"wat moet ik (nu )?doen",
    r"wat moet ik doen", r"wie kan", r"kom .{0,10}halen", r"red me", r"urgent", r"noodgeval", r"op dit moment",
    r"momenteel", r"al (een )?uur", r"de hele (avond|nacht)", r"ik zit", r"ik lig", r"ik sta", r"ik ben hier",
)
# Framings that make a message about danger not an emergency now.
NOT_ACUTE: Dict[str, Tuple[str, ...]] = {
    "verleden": (
        r"vroeger", r"vorig(e)? (jaar|maand|week|zomer|winter)", r"jaren geleden", r"maanden geleden", r"weken geleden",
        r"\btoen\b", r"destijds", r"in het verleden", r"\booit\b", r"achter de rug", r"nu (gaat|ben|is) .{0,20}(goed|veilig)",
        r"ben nu veilig", r"gelukkig", r"verwerk", r"was ik", r"had ik", r"overkwam", r"overkomen", r"heb ik meegemaakt",
        r"meegemaakt", r"lang geleden", r"in \d{4}", r"years ago", r"last year",
    ),
    "hypothetisch": (
        r"stel (dat|je voor)", r"wat als", r"mocht", r"als (ooit|er ooit)", r"wat (moet|kan|doe|doen) .{0,25}\bals\b",
        r"wat gebeurt er (als|wanneer)", r"indien", r"what if", r"et si", r"in geval van", r"zou .{0,20} als",
        r"hoe (reageer|handel|bescherm)", r"wat te doen", r"tips", r"voorbereid", r"veiligheidsplan", r"preventie",
    ),
    "fictie_nieuws": (
        r"film", r"serie", r"boek", r"roman", r"verhaal", r"documentaire", r"docu", r"nieuws", r"krant", r"artikel",
        r"podcast", r"gelezen", r"gezien", r"netflix", r"aflevering", r"personage", r"hoofdpersonage", r"citaat",
        r"quote", r"scene", r"acteur", r"schrijver", r"auteur", r"journaal", r"reportage", r"novel", r"toneel",
        r"liedje", r"song", r"game",
    ),
    "onderzoek": (
        r"onderzoek", r"studie", r"cijfers", r"statistiek", r"thesis", r"scriptie", r"werkstuk", r"spreekbeurt",
        r"hoeveel", r"percentage", r"journalist", r"rapport", r"school", r"les\b", r"opdracht", r"klas", r"paper",
        r"bronnen", r"data", r"hoe vaak", r"waarom worden", r"in welke landen", r"wereldwijd", r"interview",
        r"ik schrijf", r"ik studeer", r"mijn student", r"beleid", r"wetgeving", r"wet\b",
    ),
    "mening": (
        r"standpunt", r"amnesty", r"oneens", r"schandalig", r"belachelijk", r"onzin", r"mening", r"vind(en)?\b",
        r"jullie", r"walgelijk", r"schande", r"bot\b", r"antwoord", r"stom", r"dom(me)?\b", r"debiel", r"idioot",
        r"absurd", r"hypocriet", r"ik ben het", r"niet eens", r"onaanvaardbaar", r"waarom steunen", r"legaliseren",
        r"decriminalis", r"shame", r"disgust", r"ridicule", r"scandal",
    ),
    "beeldspraak": (
        r"dood van het lachen", r"lach", r"vermoordt me als", r"vermoorden als", r"mijn dood", r"sterf van",
        r"sterven van", r"honger", r"dorst", r"verveling", r"examen", r"toets", r"huiswerk", r"deadline",
        r"op twitter", r"op sociale media", r"grap", r"haha", r"hihi", r"lol\b", r"😂", r"🤣", r"figuurlijk",
        r"bij wijze van spreken", r"spreekwoord", r"te laat", r"als ik .{0,20} vergeet", r"ga (eraan|dood) als",
    ),
    "niet_dringend": (
        r"niet dringend", r"geen haast", r"geen noodgeval", r"niet urgent", r"geen nood", r"rustig", r"later",
        r"ooit eens", r"wanneer het past", r"per mail", r"mailen", r"e-?mail", r"afspraak", r"openingsuren",
        r"uitstap", r"verblijfsvergunning", r"soa", r"test", r"organisatie", r"vereniging", r"adres", r"informatie",
    ),
}
# Dutch names of the signals, as staff read them in the console's explanation.
LABELS: Dict[str, str] = {
    "geweld": "geweld",
    "vast": "vastgehouden of gedwongen",
    "mensenhandel": "mensenhandel",
    "dreiging": "bedreiging of achtervolging",
    "seksueel_geweld": "seksueel geweld",
    "medisch": "medisch noodgeval",
    "voertuig": "vervoer",
    "brand": "brand of ander gevaar",
    "zelfbeschadiging": "zelfbeschadiging",
    "angst": "angst",
    "dader": "een ander persoon",
    "dringend": "dringend of nu",
    "verleden": "verleden",
    "hypothetisch": "als-vraag",
    "fictie_nieuws": "film, boek of nieuws",
    "onderzoek": "onderzoek of school",
    "mening": "mening over het standpunt of de bot",
    "beeldspraak": "beeldspraak",
    "niet_dringend": "niet dringend",
}


def _compile(patterns: Tuple[str, ...]) -> Pattern[str]:
    return re.compile("|".join(f"(?:(?<![a-z0-9]){p})" for p in patterns))


_DANGER = {name: _compile(p) for name, p in DANGER.items()}
_URGENCY = _compile(URGENCY)
_NOT_ACUTE = {name: _compile(p) for name, p in NOT_ACUTE.items()}
SIGNALS: Tuple[str, ...] = tuple(_DANGER) + ("dringend",) + tuple(_NOT_ACUTE)


@dataclass(frozen=True)
class Signals:
    """How often each signal occurs in one normalised text."""

    counts: Dict[str, int]

    @property
    def danger_kinds(self) -> List[str]:
        """The kinds of danger named (not counting "someone else", which is no danger by itself)."""
        return [k for k in DANGER if k != "dader" and self.counts.get(k)]

    @property
    def not_acute(self) -> List[str]:
        """The framings found that make danger not acute."""
        return [k for k in NOT_ACUTE if self.counts.get(k)]

    def vector(self) -> List[float]:
        """Numbers for the classifier: per signal present or not, plus the shared danger and framing totals."""
        present = [1.0 if self.counts.get(name) else 0.0 for name in SIGNALS]
        danger = float(len(self.danger_kinds))
        framing = float(len(self.not_acute))
        urgent = 1.0 if self.counts.get("dringend") else 0.0
        unframed = 0.0 if framing else 1.0
        return present + [
            min(danger, 3.0),
            min(framing, 3.0),
            urgent * min(danger, 2.0),
            unframed * min(danger, 2.0),
            unframed * urgent * min(danger, 2.0),
        ]


VECTOR_NAMES: Tuple[str, ...] = SIGNALS + (
    "gevaar_totaal",
    "niet_acuut_totaal",
    "dringend_gevaar",
    "gevaar_zonder_kader",
    "dringend_gevaar_zonder_kader",
)


def signals(normalised: str) -> Signals:
    """The signals in a text already passed through `normalise`."""
    counts = {name: len(p.findall(normalised)) for name, p in _DANGER.items()}
    counts["dringend"] = len(_URGENCY.findall(normalised))
    counts.update({name: len(p.findall(normalised)) for name, p in _NOT_ACUTE.items()})
    return Signals(counts)
