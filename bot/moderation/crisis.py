"""Crisis detection: does a message suggest that its writer may be at risk?

Health chats are joined by staff under strain and by patients. A message such as "I can't
go on" or "I keep thinking about ending my life" should bring a private, kind signpost to
help and an alert to a moderator, never a public reply (the engine does that part).

What matters here is who is speaking. The patterns below need the writer to be talking
about themselves (I, me, my, myself), and a match is dropped when it is:
- an idiom ("this rota is killing me", "I could kill for a coffee", "dying to know");
- inside quotation marks (a policy or a patient being quoted);
- reported speech about someone else ("a patient told me she wanted to die");
- negated ("I'm not suicidal, just tired");
- professional talk ("suicide prevention", "patients who self-harm") never matches at all,
  because nothing in it is first person.
Measured on tests/moderation/crisis_corpus.jsonl by bench/bench_crisis.py.
"""

from __future__ import annotations

import re

from bot.moderation.detectors import Finding

__all__ = ["REASON", "detect_crisis"]

REASON = "the writer may be at risk"

# Curly apostrophes become straight ones (same length, so offsets stay true); the
# patterns accept the forms people type without them ("cant", "im", "dont").
_APOSTROPHES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'"})
_CANT = r"(?:can'?t|cannot|can\s+not)"
_DONT = r"(?:don'?t|do\s+not|didn'?t|did\s+not)"
_WONT = r"(?:won'?t|will\s+not)"
_WANT = r"(?:want(?:ed|ing)?\s+to|wanna)"

_I = r"(?:i|i'?m|i'?ve|i'?d|i'?ll|me|my|myself)"
_GAP = r"(?:\s+\S+){0,5}?\s+"  # up to five words between the speaker and the verb

# How people say they were hurt by accident: "I hurt myself moving a patient".
_INJURY = (r"playing|lifting|moving|handling|carrying|at|on|with|when|while|during|falling|"
           r"slipping|running|cooking|in\s+the")

# Each pattern, and whether a "not"/"never" inside it turns it around ("I'm not suicidal").
_RAW: list[tuple[str, bool]] = [
    # kill / hurt / harm myself; end my life; end it all
    (r"\b(?:kill|killing|hurt|hurting|harm|harming|cut|cutting|burn|burning|end|ending)"
     rf"\s+myself\b(?!\s+(?:a|an|some|off|free|short|in\s+on|into|{_INJURY})\b)", False),
    (r"\b(?:end|ending|take|taking|took)\s+my\s+(?:own\s+)?life\b", False),
    (r"\b(?:end|ending)\s+it\s+all\b(?!\s+(?:with|on|there|here|now|for|by|off)\b)",
     False),
    (rf"\b{_I}\b{_GAP}(?:end|ending)\s+(?:it|things)\b(?!\s+(?:with|on|at|early|here|there|"
     r"now|for|by|off|up|tomorrow|this|next|in|after|before|well|nicely))", True),
    # suicidal, in the first person, or as the opening words
    (r"\b(?:i'?m|i\s+am|i\s+feel|i\s+felt|i'?ve\s+been|i\s+have\s+been|i\s+was|i\s+get|"
     r"feeling|felt|been|getting|having|have|had|my)\b(?:\s+\S+){0,3}?\s+suicidal\b", True),
    (r"(?:^|[.!?;:]\s)\W*(?:\w+\W+){0,2}?suicidal\b(?!\s+(?:patients?|people|callers?|clients?|staff|"
     r"ideation\s+(?:assessment|screening)|risk))", True),
    (r"\b(?:my|a|wrote|writing|written)\s+suicide\s+note\b", False),
    (rf"\b{_I}\b{_GAP}(?:{_WANT}|going\s+to|plan(?:ning)?\s+to|thinking\s+about|thought\s+"
     r"about)\s+(?:commit(?:ting)?\s+)?suicide\b", True),
    # want to die, wish I were dead, better off without me
    (rf"\b{_I}\b{_GAP}(?:{_WANT}|ready\s+to|going\s+to)\s+die\b(?!\s+(?:of|from)\s+"
     r"(?:boredom|embarrassment|shame|laughing|laughter|old\s+age))"
     # a wish about the end of life, not now: "I want to die at home when my time comes"
     r"(?!\s+(?:peacefully|at\s+home|in\s+my\s+(?:sleep|own\s+bed)|with\s+dignity|"
     r"surrounded|when\s+my\s+time|old|in\s+a\s+hospice))", True),
    (r"\bwish\s+i\s+(?:was|were)\s+dead\b", False),
    (r"\bwish\s+i\s+(?:wasn'?t|was\s+not|weren'?t|were\s+not)\s+(?:here|alive|around|"
     r"born)\b", False),
    (r"\bwish\s+i(?:\s+had\s+never\s+been|\s+hadn'?t\s+been|'?d\s+never\s+been)\s+born\b",
     False),
    (r"\bwish\s+i\s+could\s+(?:just\s+)?(?:disappear|not\s+wake\s+up|sleep\s+forever|"
     r"go\s+to\s+sleep\s+and\s+not\s+wake)\b", False),
    (r"\b(?:better\s+off|be\s+better)\s+(?:dead|without\s+me|if\s+i\s+(?:was|were)(?:n'?t|"
     r"\s+not)\s+(?:here|around|alive)|with(?:out)?\s+me\s+gone|if\s+i\s+was\s+gone)\b",
     False),
    (rf"\b{_DONT}\s+{_WANT}\s+(?:be\s+(?:here|alive|around)(?:\s*any\s*more)?|live|exist|"
     r"wake\s+up)\b(?!\s+(?:in|near|with|on|at|there|here|next|all|early|like\s+(?:that|them)|by)\b)",
     False),
    (r"\bno\s+(?:reason|point)\s+(?:to|in)\s+(?:live|living|going\s+on|being\s+alive|"
     r"carrying\s+on)\b", False),
    (r"\bnothing\s+(?:left\s+)?to\s+live\s+for\b", False),
    # can't go on / carry on / take it any more
    (rf"\b{_CANT}\s+(?:go|carry)\s+on\b(?!\s+(?:twitter|x|facebook|instagram|tiktok|the|a|"
     r"an|my|our|with|about|holiday|leave|strike|site|that|this\s+(?:course|ward|site|rota)|"
     r"call|shift|nights|days|placement|training|study|annual|long|till|until|to|at|for)\b)",
     False),
    (rf"\b{_CANT}\s+(?:take|do|cope\s+with|handle|face)\s+(?:it|this|this\s+life|life|"
     r"any\s+of\s+it)\s+any\s*more\b(?!\s+(?:at\s+work|here))", False),
    (rf"\b{_CANT}\s+cope\s+any\s*more\b", False),
    (rf"\b(?:{_CANT}|{_DONT})\s+see\s+(?:a|any)\s+(?:way\s+out|future|point\s+(?:in\s+)?"
     r"(?:living|anything|going\s+on|carrying\s+on))\b", False),
    # overdose, pills, self-harm, plans
    (rf"\b{_I}\b{_GAP}(?:take|taking|took|thinking\s+about|thought\s+about|planning|"
     r"plan)\s+(?:an?\s+)?(?:overdose|od)\b", True),
    (r"\b(?:take|taking|took|swallow|swallowing|swallowed|saving|stockpiling|hoarding|"
     r"saved\s+up|saving\s+up)\s+(?:all\s+)?(?:of\s+)?my\s+(?:pills|tablets|meds|medication)\b"
     r"(?!\s+(?:with|after|before|on\s+time|at|every|each|as|in\s+the\s+morning))", False),
    (r"\b(?:i|i'?ve|i'?m)(?:\s+(?:been|started|keep|kept|still|also|really|just|have|"
     r"was|am|do|often|sometimes|secretly|always|again)){0,3}\s+(?:self[\s-]?harm(?:ing|ed)?|cut(?:ting)?\s+(?:myself|again|my\s+"
     rf"(?:arms?|legs?|wrists?)))\b(?!\s+(?:a|an|some|off|free|short|{_INJURY})\b)", True),
    (r"\bmy\s+self[\s-]?harm(?:ing)?\b(?!\s+(?:training|module|policy|teaching|"
     r"research|project|lecture|talk|workshop|session))", False),
    (r"\b(?:want|wanna|wish|like)\b[^.!?]{0,30}\bsleep\s+and\s+(?:never|not)\s+wake\s+up\b",
     False),
    (r"\b(?:i'?m\s+having|i\s+have|i'?ve\s+had|i\s+get|having|my)\s+(?:\w+\s+)?thoughts?\s+"
     r"(?:of|about)\s+(?:suicide|killing\s+myself|ending\s+(?:my\s+life|it)|dying)\b", True),
    (r"\b(?:took|taken|take|taking|swallowed)\s+(?:way\s+)?(?:too\s+many|loads|a\s+load)\s+"
     r"(?:of\s+)?(?:my\s+)?(?:pills|tablets|meds|medication|paracetamol)\b", False),
    (r"(?:^|[.!?]\s)\W*(?:\w+\W+){0,1}?(?:been|started|still)\s+self[\s-]?harm(?:ing)?\b",
     False),
    (rf"\b{_DONT}\s+think\s+i\s+can\s+(?:go|carry)\s+on\b", False),
    (r"\b(?:urge|urges)\s+to\s+(?:cut|self[\s-]?harm|hurt\s+myself)\b", True),
    (rf"\b{_I}\b{_GAP}(?:jump|jumping)\s+(?:off|in\s+front\s+of)\b", True),
    (r"\b(?:thought|thinking|think)\s+about\s+(?:jumping|throwing\s+myself)\s+(?:off|"
     r"in\s+front\s+of|from|under)\b", True),
    (rf"\b{_WONT}\s+be\s+(?:here|around)\s+(?:tomorrow|much\s+longer|for\s+long|any\s*more)"
     r"\b(?!\s+(?:at|on|for\s+the|because|as|due|tonight|today|this\s+(?:evening|"
     r"morning|afternoon|week)))", False),
    (r"\b(?:this\s+is|these\s+are)\s+my\s+(?:last|final)\s+(?:words|message|post|goodbye)\b"
     r"(?!\s+(?:tonight|today|for|of|before|in|on|here|from|as))", False),
]
_PATTERNS = [(re.compile(p, re.I), negatable) for p, negatable in _RAW]
_NOT = (r"(?:not|never|no\s+longer|nobody|no\s+one|(?:do|does|did|is|was|are|were|wo|ai|"
        r"have|has|had|would|should)n'?t)")
_INNER_NOT = re.compile(rf"\b{_NOT}\b", re.I)

# Idioms and hyperbole: when the match is about work, tea or laughter, it is a figure of
# speech ("I could kill myself laughing", "I'd rather die than do another audit").
_IDIOM_AFTER = re.compile(
    r"^\W*(?:laughing|lol|haha|😂|🤣|with\s+(?:work|laughter|this\s+(?:rota|workload|"
    r"paperwork))|to\s+(?:get|finish|make|meet|hit|keep)|over\s+(?:this|the|that|these)\s+"
    r"(?:rota|audit|form|deadline|essay|exam|job)|trying\s+to)\b",
    re.I,
)
# Someone other than the writer is the subject right before the phrase: "we can't go on
# ignoring staff wellbeing", "the service can't carry on like this".
_OTHER_SUBJECT = re.compile(
    r"\b(?:we|you|they|staff|people|nurses|doctors|patients|teams?|services?|wards?|"
    r"trusts?|the\s+nhs|nhs|it|this|that|things|managers|hr|project|programme|plan|"
    r"system|policy|rota|unit|department|hospital|organisation|business)\s+(?:just\s+|really\s+|"
    r"simply\s+)?$", re.I)
# A joke marker or an everyday reason in the same sentence: "I'm suicidal about the car
# park lol", "I won't be around tomorrow, annual leave".
_LIGHT = re.compile(r"\b(?:lol|lmao|haha+|jk|joking|kidding|annual\s+leave|on\s+leave|"
                    r"holiday|day\s+off|days\s+off|training\s+day|conference)\b|😂|🤣", re.I)
_NEGATED = re.compile(rf"\b{_NOT}(?:\s+\S+){{0,2}}\s*$", re.I)
# Someone else's words or feelings, reported: the writer is the listener, not at risk.
_REPORTED = re.compile(
    r"\b(?:patients?|clients?|service\s+users?|callers?|colleagues?|friends?|someone|"
    r"people|staff|students?|he|she|they|her|his|their|son|daughter|mum|dad|mother|father|"
    r"husband|wife|partner|brother|sister|nurse|doctor|man|woman|lady|gentleman|anyone|"
    r"everyone|those|who)\b[^.!?;]*\b(?:said|says|saying|told|tells|telling|wrote|writes|"
    r"texted|messaged|asked|asks|shared|disclosed|disclose|admitted|mentioned|screamed|"
    r"shouted|cried|say)\b[^.!?;]*$",
    re.I,
)
_YOU = re.compile(r"\b(?:if\s+you|you're|you\s+are|you\s+feel|anyone\s+who|those\s+who|"
                  r"people\s+who|someone\s+who|staff\s+who|patients\s+who)\b[^.!?;]*$", re.I)
_QUOTES = re.compile(r"\"[^\"]{3,400}\"|\u201c[^\u201d]{3,400}\u201d|'[^']{12,400}'(?!\w)")


def _normalise(text: str) -> str:
    return text.translate(_APOSTROPHES)


def _blank_quotes(text: str) -> str:
    """Quoted words are someone else's (a policy, a patient): blank them, keeping offsets."""
    return _QUOTES.sub(lambda m: " " * len(m.group()), text)


# Every pattern needs one of these words: a cheap first look (a set lookup, ~8 us) that
# lets most chat through without trying ~30 patterns. A test checks it changes no verdict.
_CUES = frozenset(
    "myself life suicide suicidal die dead wish better wanna live living alive exist wake "
    "here around born disappear can't cant cannot future overdose od pills "
    "tablets meds medication harm harming harmed selfharm selfharming cut cutting urge urges "
    "jump jumping won't wont last final end ending".split())
_CUE_PAIRS = ("can not", "will not", "no point", "way out", "can go on", "can carry on")
_WORD = re.compile(r"[a-z']+")


def detect_crisis(text: str) -> list[Finding]:
    """Spans suggesting the writer may be at risk (empty for idioms, quotes and others)."""
    if len(text) < 6:
        return []
    lowered = text.lower().translate(_APOSTROPHES)
    if _CUES.isdisjoint(_WORD.findall(lowered)) and not any(p in lowered for p in _CUE_PAIRS):
        return []
    return scan_all(text)


def scan_all(text: str) -> list[Finding]:
    """Every pattern, without the first look (what detect_crisis must agree with)."""
    plain = _blank_quotes(_normalise(text))
    found: list[Finding] = []
    for pattern, negatable in _PATTERNS:
        for m in pattern.finditer(plain):
            if negatable and _INNER_NOT.search(m.group()):
                continue
            before, after = plain[:m.start()], plain[m.end():]
            clause = re.split(r"[.!?;\n]|\bbut\b", before)[-1]
            rest = re.split(r"[.!?;\n]", after)[0]
            if _IDIOM_AFTER.match(after) or _NEGATED.search(clause) or _LIGHT.search(rest):
                continue
            # The match itself may open with the speaker ("my patient said he wanted...").
            if _REPORTED.search(clause + m.group()) or _YOU.search(clause):
                continue
            if _OTHER_SUBJECT.search(clause):
                continue
            start, end = m.span()
            found.append(Finding("crisis", start, end, text[start:end], REASON))
    found.sort(key=lambda f: (f.start, -f.end))
    out: list[Finding] = []
    for f in found:
        if out and f.start < out[-1].end:
            continue
        out.append(f)
    return out
