"""Crisis detection: does a message suggest that its writer may be at risk?

Health chats are joined by staff under strain and by patients. A message such as "I can't
go on" or "I keep thinking about ending my life" should bring a private, kind signpost to
help and an alert to a moderator, never a public reply (the engine does that part).

What matters here is who is speaking. The patterns below need the writer to be talking
about themselves (I, me, my, myself), and a match is dropped when it is:
- an idiom ("this rota is killing me", "I could kill for a coffee", "dying to know");
- inside quotation marks (a policy or a patient being quoted);
- reported speech about someone else ("a patient told me she wanted to die");
- about someone close or in the writer's care ("my brother has been suicidal", "people
  who want to die"), unless the phrase itself opens with the writer ("I just want...");
- negated ("I'm not suicidal, just tired") or recovery told in the past ("I used to want
  to die", "five years ago I wanted to die");
- professional talk ("suicide prevention", "patients who self-harm") never matches at all,
  because nothing in it is first person.
Besides the direct phrases it knows the common indirect ones: hopelessness about life
("life isn't worth living", "done with life"), being a burden ("they'd be fine without
me"), wishing not to wake, and means ("hoarding my tablets", "a handful of pills").
Measured on tests/moderation/crisis_corpus.jsonl and the never-tuned-on
crisis_heldout.jsonl by bench/bench_crisis.py: new wording is caught about two times in
three, and what needs reading between the lines is missed.
"""

from __future__ import annotations

import re

from bot.moderation.detectors import Finding

__all__ = ["REASON", "detect_crisis"]

REASON = "the writer may be at risk"

# Curly apostrophes become straight ones (same length, so offsets stay true); the
# patterns accept the forms people type without them ("cant", "im", "dont").
_APOSTROPHES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'"})
_CANT = r"(?:can'?t|cannot|can\s+not|can\s+no\s+longer)"
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
    (rf"\b{_I}\b{_GAP}(?:end|ending)\s+(?:it|things|everything)\b(?!\s+(?:with|on|at|early|here|there|"
     r"now|for|by|off|up|tomorrow|this|next|in|after|before|well|nicely))", True),
    # suicidal, in the first person, or as the opening words
    (r"\b(?:i'?m|i\s+am|i\s+feel|i\s+felt|i'?ve\s+been|i\s+have\s+been|i\s+was|i\s+get|"
     r"feeling|felt|been|getting|having|have|had|my)\b(?:\s+\S+){0,3}?\s+(?<!\bis\s)(?<!\bare\s)"
     r"(?<!\bseems\s)(?<!\bsounds\s)(?<!\blooks\s)suicidal\b", True),
    (r"(?:^|[.!?;:]\s)\W*(?:\w+\W+){0,2}?(?<!\bis\s)(?<!\bare\s)(?<!\bwas\s)(?<!\bwere\s)"
     r"suicidal\b(?!\s+(?:patients?|people|callers?|clients?|staff|ideation|behaviou?r|"
     r"risk))", True),
    (r"\b(?:my|a|wrote|writing|written)\s+suicide\s+note\b", False),
    (rf"\b{_I}\b{_GAP}(?:{_WANT}|going\s+to|plan(?:ning)?\s+to|think(?:ing)?\s+about|thought\s+"
     r"about|consider(?:ing|ed)?|contemplat(?:ing|ed|e)|attempt(?:ing|ed)?)\s+"
     r"(?:commit(?:ting)?\s+)?suicide\b", True),
    (r"\b(?:can'?t|cannot)\s+stop\s+thinking\s+about\s+(?:dying|death|suicide|killing\s+myself|"
     r"ending\s+(?:it|my\s+life))\b", False),
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
     r"go\s+to\s+sleep\s+and\s+not\s+wake|stop\s+existing|not\s+exist)\b", False),
    (r"\b(?:wish|wishing|dream\w*|hop\w*|pray\w*)\s+(?:about\s+|that\s+)?(?:i\s+)?(?:wouldn'?t|"
     r"won'?t|don'?t|didn'?t|not|never)\s+wak(?:e|ing)\s+up\b", False),
    (r"\b(?:better\s+off|be\s+better)\s+(?:dead|gone|not\s+(?:waking\s+up|being\s+here|"
     r"being\s+alive|existing)|without\s+(?:an?\s+\w+\s+like\s+)?me|if\s+i\s+(?:was|were)(?:n'?t|"
     r"\s+not)\s+(?:here|around|alive)|with(?:out)?\s+me\s+gone|if\s+i\s+was\s+gone)\b",
     False),
    (rf"\b(?:{_DONT}(?:\s+think\s+i)?|no\s+longer)\s+{_WANT}\s+(?:be\s+(?:here|alive|around|on\s+this\s+earth|in\s+this\s+world)"
     r"(?:\s*any\s*more)?|live|exist|wake\s+up|keep\s+living)\b(?!\s+(?:in|near|with|on|at|there|here|next|all|early|like\s+(?:that|them)|by)\b)",
     False),
    (r"\bno\s+(?:will|desire)\s+to\s+live\b", False),
    (r"\bno\s+(?:reason|point)\s+(?:for\s+me\s+|in\s+me\s+|me\s+)?(?:to|in|being)?\s*(?:live|living|going\s+on|"
     r"(?:be|being|stay|staying)\s+alive|carrying\s+on)\b", False),
    (rf"\b(?:{_CANT}|{_DONT})\s+see\s+(?:the|any)\s+point\s+(?:in|of)\s+(?:living|life|"
     r"being\s+alive|going\s+on|carrying\s+on)\b", False),
    (r"\bnothing\s+(?:left\s+)?to\s+live\s+for\b", False),
    # can't go on / carry on / take it any more
    (rf"\b{_CANT}\s+(?:go|carry)\s+on\b(?!\s+(?:twitter|x|facebook|instagram|tiktok|the|a|"
     r"an|my|our|with|about|holiday|leave|strike|site|that|this\s+(?:course|ward|site|rota)|"
     r"call|shift|nights|days|placement|training|study|annual|long|till|until|to|at|for|"
     r"being|without)\b)",
     False),
    (rf"\b{_CANT}\s+(?:take|do|cope\s+with|handle|face)\s+(?:it|this|this\s+life|life|"
     r"any\s+of\s+it)\s+any\s*more\b(?!\s+(?:at\s+work|here))", False),
    (rf"\b{_CANT}\s+cope\s+any\s*more\b", False),
    (rf"\b(?:{_CANT}|{_DONT})\s+see\s+(?:a|any)\s+(?:way\s+out|future|point\s+(?:in\s+)?"
     r"(?:living|anything|going\s+on|carrying\s+on)|reason\s+to\s+(?:live|keep\s+going|go\s+on|"
     r"carry\s+on|stay))\b", False),
    (rf"\b{_I}\b{_GAP}(?:going\s+to|gonna|{_WANT}|plan(?:ning)?\s+to|about\s+to|will|'ll)\s+"
     r"(?:overdose|od)\b", True),
    (r"\b(?:taken|took|take|swallowed)\s+(?:all|a\s+whole\s+(?:box|packet|strip)\s+of)\s+(?:of\s+)?"
     r"my\s+(?:\w+\s+)?(?:pills|tablets|meds|medication|antidepressants|painkillers|insulin)\b"
     r"(?!\s+(?:with|after|before|on\s+time|at\s+(?:\d|breakfast|lunch|dinner|night|bedtime)|"
     r"every|each|as|and|then)\b)", False),
    (r"\b(?:a\s+)?danger\s+to\s+myself\b", False),
    (r"\bi'?m\s+not\s+safe\s+(?:at\s+the\s+moment|right\s+now|tonight|today|any\s*more|around\s+"
     r"myself|with\s+myself|on\s+my\s+own)\b", False),
    (r"\bwish\s+(?:it|everything|this|the\s+pain)\s+would\s+(?:all\s+)?(?:just\s+)?(?:end|stop)\b",
     False),
    (r"\bwant(?:ed)?\s+out\s+of\s+(?:this\s+)?life\b", False),
    (r"\b(?:tired|sick|exhausted|weary)\s+of\s+fighting\b|\bfighting\s+to\s+stay\s+(?:alive|"
     r"here)\b", False),
    (r"\bi'?ve\s+been\s+cutting\b(?!\s+(?:back|down|out|up|costs|corners|the|a|my\s+hair|hair|"
     r"it|through|off|across|in|on|some|things|paper|shapes)\b)", False),
    # overdose, pills, self-harm, plans
    (rf"\b{_I}\b{_GAP}(?:take|taking|taken|took|thinking\s+about|thought\s+about|"
     r"planning|plan)\s+(?:an?\s+)?(?:overdose|od)\b", True),
    (rf"\b{_I}\b{_GAP}(?:thinking|thought|think)\s+(?:about|of)\s+overdosing\b", True),
    (r"\b(?:take|taking|took|swallow|swallowing|swallowed|saving|stockpiling|hoarding|"
     r"saved\s+up|saving\s+up)\s+(?:all\s+)?(?:of\s+)?my\s+(?:pills|tablets|meds|medication)\b"
     r"(?!\s+(?:with|after|before|on\s+time|at|every|each|as|in\s+the\s+morning|and|then)\b)",
     False),
    (r"\b(?:saving|stockpiling|hoarding|saved\s+up|saving\s+up)\s+my\s+\w+\s+(?:pills|tablets|"
     r"meds)\b", False),
    (r"\b(?:i|i'?ve|i'?m)(?:\s+(?:been|started|keep|kept|still|also|really|just|have|"
     r"was|am|do|often|sometimes|secretly|always|again)){0,3}\s+(?:self[\s-]?harm(?:ing|ed)?|cut(?:ting)?\s+(?:myself|again|my\s+"
     rf"(?:arms?|legs?|wrists?)))\b(?!\s+(?:a|an|some|off|free|short|{_INJURY})\b)", True),
    (r"\bmy\s+self[\s-]?harm(?:ing)?\b(?!\s+(?:training|module|policy|teaching|"
     r"research|project|lecture|talk|workshop|session))", False),
    (r"\b(?:want|wanna|wish|like)\b[^.!?]{0,30}\ba?sleep\s+and\s+(?:never|not)\s+wake(?:\s+up)?\b",
     False),
    (r"\b(?:i'?m\s+having|i\s+have|i'?ve\s+had|i\s+get|having|my)\s+(?:\w+\s+)?thoughts?\s+"
     r"(?:of|about)\s+(?:suicide|killing\s+myself|ending\s+(?:my\s+life|it)|dying)\b", True),
    (r"\b(?:took|taken|take|taking|swallowed)\s+(?:way\s+)?(?:too\s+many|loads|a\s+load|a\s+handful|"
     r"handfuls|a\s+whole\s+(?:box|packet|strip))\s+"
     r"(?:of\s+)?(?:my\s+)?(?:pills|tablets|meds|medication|paracetamol)\b", False),
    (r"(?:^|[.!?]\s)\W*(?:\w+\W+){0,1}?(?:been|started|still)\s+self[\s-]?harm(?:ing)?\b",
     False),
    (rf"\b{_DONT}\s+think\s+i\s+can\s+(?:go|carry)\s+on\b", False),
    (r"\b(?:urge|urges)\s+to\s+(?:cut|self[\s-]?harm|hurt\s+myself)\b", True),
    (rf"\b{_I}\b{_GAP}(?:jump|jumping)\s+(?:off|in\s+front\s+of)\b", True),
    (r"\b(?:thought|thinking|think)\s+about\s+(?:jumping|throwing\s+myself)\s+(?:off|"
     r"in\s+front\s+of|from|under)\b", True),
    (rf"\b{_WONT}\s+be\s+(?:here|around|alive)\s+(?:tomorrow|much\s+longer|for\s+long|any\s*more)"
     r"\b(?!\s+(?:at|on|for\s+the|because|as|due|tonight|today|this\s+(?:evening|"
     r"morning|afternoon|week)))", False),
    # hopelessness about life itself
    (r"\blife\s+(?:is\s*n'?t|is\s+not|'?s\s+not|not)\s+worth\s+(?:living|it)\b", False),
    (r"\b(?:tired|sick|weary|fed\s+up|exhausted|had\s+enough)\s+(?:of|with)\s+(?:being\s+"
     r"alive|living|life)\b(?!\s+(?:admin|in|with|"
     r"at|on|near|like\s+(?:that|them))\b)", False),
    (rf"\b(?:{_CANT}|hate)\s+(?:bear|stand)?\s*being\s+alive\b", False),
    (r"\bstruggling\s+to\s+stay\s+alive\b", False),
    (r"\b(?:give|giving|given|gave)\s+up\s+on\s+(?:life|living)\b", False),
    (r"\bdone\s+with\s+(?:life|living)\b(?!\s+(?:admin|in|at|on)\b)", False),
    (rf"\b{_CANT}\s+keep\s+(?:living|going)\b(?!\s+(?:to|on|through|with|in|into|back|for|at|"
     r"out|up|round|over|the|a|an|my|our)\b)", False),
    (rf"\b{_DONT}\s+{_WANT}\s+(?:carry|go)\s+on\b(?!\s+(?:with|about|at|in|on|to|the|a|"
     r"my|our|working|doing|like\s+(?:that|them)|holiday|leave|nights|shift)\b)", False),
    (r"\b(?:(?:have|has|had)(?:n'?t|\s+not)\s+got\s+the|have\s+no|lost\s+the|no)\s+(?:strength|"
     r"will|energy)\s+to\s+(?:carry|go|keep)\s+on\s+living\b", False),
    (rf"\b{_CANT}\s+face\s+(?:another|one\s+more)\s+day\b(?!\s+(?:of|on|at|in|with|like)\b)",
     False),
    (rf"\b(?:{_DONT}\s+think\s+i'?(?:ll|\s+will)|{_WONT})\s+make\s+it\s+through\s+(?:the\s+"
     r"night|tonight|the\s+weekend|another\s+day)\b(?!\s+(?:shift|without|on|at)\b)", False),
    (r"\b(?:nobody|no\s+one|no-one)\s+would\s+(?:even\s+)?(?:care|notice|miss\s+me|mind)\s+"
     r"(?:if\s+i|i'?d|that\s+i'?d|that\s+i)\s+(?:died|was\s+gone|were\s+gone|gone|was\s+dead|"
     r"disappeared|killed\s+myself|wasn'?t\s+here)\b",
     False),
    # wishing not to exist
    (r"\b(?:i'?d|i\s+would)\s+(?:rather|sooner)\s+be\s+dead\b(?!\s+(?:than|tired|on)\b)",
     False),
    (r"\bi'?m\s+(?:just\s+)?waiting\s+to\s+die\b", False),
    (r"\b(?:everything|life|living|it\s+all)\s+(?:feels|seems|is)\s+(?:so\s+)?pointless\b",
     False),
    (r"\b(?:scared|afraid|worried|frightened)\s+(?:that\s+)?i'?(?:m|\s+am|ll|\s+will|\s+might)\s+"
     r"(?:going\s+to\s+)?do\s+something\s+(?:stupid|silly)\b", False),
    (r"(?:\bwould|'d)\s+(?:all\s+)?(?:be\s+)?(?:fine|happier|ok|okay|better)\s+without\s+me\b"
     r"(?!\s+(?:for|on|while|this|next|at|today|tonight)\b)", False),
    (r"\bi\s+(?:might|may|could)\s+as\s+well\s+be\s+dead\b", False),
    (rf"\b{_WANT}\s+(?:just\s+)?(?:not\s+(?:exist|be\s+(?:here|alive|around))|stop\s+existing|"
     r"disappear\s+(?:forever|for\s+good|and\s+never))\b", False),
    (rf"\b{_WANT}\s+(?:go\s+to\s+)?sleep\s+forever\b", False),
    (r"\b(?:want(?:ed)?|wanna)\s+(?:it|everything|this|the\s+pain)\s+(?:all\s+)?to\s+(?:be\s+over|stop|end)"
     r"\b(?!\s+\w+ing)", False),
    (r"\b(?:suicide|dying|death|ending\s+it)\s+(?:feels|seems|is)\s+(?:like\s+)?(?:the|my)\s+"
     r"only\s+(?:option|way\s+out|answer|choice)\b", False),
    (r"\bno\s+way\s+out\s+(?:for\s+me\s+)?(?:except|but|other\s+than)\s+(?:dying|death|"
     r"suicide)\b", False),
    (r"\bwhat\s+i\s+(?:might|could|will|would|'?ll)\s+do\s+to\s+myself\b", False),
    # a burden; better off gone
    (r"\b(?:i'?m|i\s+am|i\s+feel\s+like)\s+(?:just\s+|such\s+)?a\s+burden\b", False),
    (r"\bbetter\s+without\s+me\b", False),
    (r"(?:\bwould|'d)\s+(?:be\s+)?(?:easier|better|happier|simpler|fine|cope\s+better|"
     r"manage\s+better)\b[^.!?]{0,30}?\bif\s+i\s+(?:just\s+)?(?:(?:was|were)(?:n'?t|\s+not)\s+"
     r"(?:here|around|alive)|(?:was|were)\s+(?:gone|dead)|died|disappeared)\b", False),
    (r"\bnot\s+sure\s+i'?(?:ll|\s+will)\s+(?:still\s+)?be\s+(?:here|around|alive)\s+(?:by|at|"
     r"for|next|much)\b", False),
    # means and plans
    (r"\b(?:googl\w*|search\w*|look\w*\s+up|research\w*)\s+(?:ways|how)\s+to\s+(?:die|kill\s+"
     r"myself|end\s+(?:it|my\s+life)|overdose)\b", False),
    (r"\bhow\s+many\s+(?:paracetamol|tablets|pills)\s+(?:it\s+takes|would\s+(?:kill|do\s+it))"
     r"\b(?!\s+(?:to|for|before)\b)", False),
    (r"\b(?:swallow|take|taking|swallowing)\s+(?:everything|all\s+the\s+(?:pills|tablets|meds))"
     r"\s+in\s+the\s+(?:medicine\s+cabinet|house|drawer|cupboard)\b", False),
    (r"\bmy\s+(?:pills|tablets|meds)\s+(?:all\s+)?(?:lined\s+up|counted\s+out)\b|\b(?:pills|"
     r"tablets|meds)\s+(?:all\s+)?(?:lined\s+up|counted\s+out)\s+on\b", False),
    (r"\b(?:think|thinking|thought)\s+about\s+(?:steer|driv|swerv|crash)\w*\s+(?:my\s+car\s+)?"
     r"(?:into|off)\b", True),
    (r"\b(?:think|thinking|thought)\s+about\s+(?:walk|swim|wad)\w*\s+(?:out\s+)?into\s+the\s+"
     r"(?:sea|river|water|lake|canal)\b", True),
    (rf"\b{_CANT}\s+(?:live|go\s+on\s+living|keep\s+living)\s+like\s+this\b", False),
    (r"\bwish\s+i\s+(?:hadn'?t|had\s+not|didn'?t|did\s+not|never)\s+(?:woken|wake|woke)\s+up\b",
     False),
    (r"\bonly\s+way\s+out\s+(?:is|would\s+be|left\s+is)\s+(?:to\s+die|death|dying|suicide|to\s+"
     r"kill\s+myself|killing\s+myself|to\s+end\s+(?:it|my\s+life))\b", False),
    (r"\bi'?m\s+not\s+going\s+to\s+be\s+(?:here|around|alive)\s+(?:much\s+longer|for\s+long|"
     r"for\s+much\s+longer)\b(?!\s+(?:tonight|today|this|at|on|in)\b)", False),
    (r"\b(?:easier|better)\s+(?:to\s+)?(?:just\s+)?(?:not\s+(?:be|being)\s+(?:alive|here|around)|"
     r"(?:be|being)\s+dead)\b", False),
    (r"\b(?:thinking|thought)\s+about\s+(?:ending\s+(?:it|things|everything|my\s+life)|killing\s+"
     r"myself|taking\s+my\s+(?:own\s+)?life|overdosing)\b", True),
    (r"\b(?:been|keep|kept|started|start)\s+(?:cutting|burning|scratching|hurting)\s+(?:myself|"
     r"my\s+(?:arms?|legs?|wrists?|thighs?|skin|stomach))\b", False),
    # self-harm, again
    (r"\b(?:cut|cutting|burn|burning|burnt|burned|hurt|hurting)\s+(?:myself|my\s+(?:arms?|"
     r"legs?|wrists?|thighs?|skin))\b(?:\s+\S+){0,4}?\s+again\b", False),
    (r"\b(?:scratch\w*|hit|hitting|punch\w*|bang\w*|cut\w*|burn\w*)\s+(?:myself|my\s+(?:arms?|"
     r"legs?|head|wrists?|thighs?|skin))\s+(?:until|till)\s+(?:it|they|i)\s+(?:bleeds?|bled|"
     r"bruises?|bruised)\b", False),
    (r"\b(?:i|i'?ve|i'?m)(?:\s+(?:been|started|keep|kept|still|also|really|just|have|was|am|"
     r"often|sometimes|secretly|always|again)){0,3}\s+self[\s-]?harm(?:ing|ed)?\b(?!\s+(?:"
     r"training|module|policy|research|awareness|pathway|service|team)\b)", True),
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
    r"(?:rota|audit|form|deadline|essay|exam|job)|trying\s+to|if\s+(?:this|the|that|one\s+more|"
    r"another|i\s+have\s+to\s+(?:do|sit|fill|read|attend|go)))\b",
    re.I,
)
# Someone other than the writer is the subject right before the phrase: "we can't go on
# ignoring staff wellbeing", "the service can't carry on like this".
_OTHER_SUBJECT = re.compile(
    r"\b(?:we|you|they|staff|people|nurses|doctors|patients|teams?|services?|wards?|"
    r"trusts?|the\s+nhs|nhs|it|this|that|things|managers|hr|project|programme|plan|he|"
    r"she|someone|anyone|colleagues?|friends?|strategy|campaign|pathway|"
    r"system|policy|rota|unit|department|hospital|organisation|business)\s+(?:just\s+|really\s+|"
    r"simply\s+)?$", re.I)
# A joke marker or an everyday reason in the same sentence: "I'm suicidal about the car
# park lol", "I won't be around tomorrow, annual leave".
_LIGHT = re.compile(r"\b(?:lol|lmao|haha+|jk|joking|kidding|annual\s+leave|on\s+leave|"
                    r"holiday|day\s+off|days\s+off|training\s+day|conference|study\s+days?|course|"
                    r"on\s+placement|on\s+nights|wedding)\b|😂|🤣", re.I)
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
_YOU = re.compile(r"\b(?:if\s+you|you're|you\s+are|you\s+feel|(?:anyone|those|people|"
                  r"someone|staff|patients?|colleagues?|friends?|students?|nurses?|doctors?|"
                  r"carers?|clients?|everyone|person|men|women|children|kids)\s+who)\b"
                  r"[^.!?;]*$", re.I)
# A match that opens with the writer (or is about them by its own words) has its subject.
_SELF_START = re.compile(r"(?:i\b|i'|me\b|my\b|myself\b|would\b|'d\b|nobody\b|no\s+one\b|"
                         r"no-one\b|what\s+i\b)", re.I)
# Recovery told in the past: "I used to want to die; therapy changed that".
_USED_TO = re.compile(r"\bused\s+to\b", re.I)
_USED_TO_END = re.compile(r"\b(?:used\s+to|years\s+ago,?|back\s+then,?)\s*$", re.I)
# ... or after: "I was suicidal years ago; peer support saved my life".
_PAST_AFTER = re.compile(r"^\W*(?:\w+\W+){0,2}?(?:(?:years|months|decades)\s+ago|as\s+a\s+"
                         r"(?:teenager|student|child|kid))\b", re.I)
# Someone close, or in the writer's care, is the subject: "my brother has been suicidal".
_THIRD = re.compile(
    r"\b(?:my|our|his|her|their|a|the)\s+(?:brother|sister|friend|mum|mother|dad|father|son|"
    r"daughter|husband|wife|partner|patient|colleague|student|child|kid|boy|girl|nan|grandad|"
    r"mate|neighbour)s?\s+(?:\w+\s+){0,2}?(?:is|was|has|had|feels|felt|seems|keeps|'s|took|"
    r"tried|tries|attempted|said|says|told|wants|wanted)\b",
    re.I)
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
    "jump jumping won't wont last final end ending carry through died gone disappeared "
    "killed stop over burden paracetamol cabinet cupboard drawer house overdosing forever "
    "death dying steer steers steered steering drive drives driving drove driven swerve "
    "swerves swerved swerving crash crashes crashed crashing burn burning burnt burned hurt "
    "hurting pointless stupid silly handful handfuls scratch scratching scratched hit "
    "hitting punch punching punched bang banging banged earth world fine happier ok okay "
    "enough waking considering contemplating attempting attempted consider "
    "contemplate attempt gonna danger safe fighting antidepressants painkillers insulin "
    "gone sea river canal lake water woken woke easier".split())
_CUE_PAIRS = ("can not", "will not", "no point", "way out", "can go on", "can carry on",
              "no longer", "fed up")
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
            # "killing myself to get this done" is an idiom; "self-harming to get through" is not.
            idiom = _IDIOM_AFTER.match(after) and "harm" not in m.group().lower()
            if idiom or _NEGATED.search(clause) or _LIGHT.search(rest):
                continue
            # The match itself may open with the speaker ("my patient said he wanted...").
            if _REPORTED.search(clause + m.group()) or _YOU.search(clause + m.group()):
                continue
            if _OTHER_SUBJECT.search(clause) and not _SELF_START.match(m.group()):
                continue
            if _THIRD.search(clause + m.group()):
                continue
            if _USED_TO.search(m.group()) or _USED_TO_END.search(clause) or \
                    _PAST_AFTER.match(rest):
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
