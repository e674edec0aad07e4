"""Regenerate tests/moderation/corpus.jsonl: `python -m tests.moderation.make_corpus`.

The labels come from construction (which identifier was put where), never from the
detectors under test. Identifiers are synthetic: NHS numbers are random with a valid
Modulus 11 check digit, phone numbers are random numbers that libphonenumber calls valid
plus numbers it only calls possible (Ofcom's drama ranges such as 07700 900xxx and 01632
960xxx, ranges not yet allocated, US 555-01xx), emails and postcodes are made up in the
real formats.
"""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import phonenumbers

OUT = Path(__file__).with_name("corpus.jsonl")
rng = random.Random(2013)


def nhs_check(nine: str) -> int | None:
    c = 11 - sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True)) % 11
    return 0 if c == 11 else (None if c == 10 else c)


def nhs(valid: bool = True) -> str:
    while True:
        nine = rng.choice("4679") + "".join(rng.choice("0123456789") for _ in range(8))
        check = nhs_check(nine)
        if check is None:
            continue
        digit = check if valid else (check + rng.randint(1, 9)) % 10
        if not valid and nhs_check(nine) == digit:
            continue
        d = nine + str(digit)
        return rng.choice([f"{d[:3]} {d[3:6]} {d[6:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}", d])


def _valid(national: str, region: str = "GB") -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(national, region))
    except phonenumbers.NumberParseException:
        return False


def uk_phone() -> str:
    while True:
        kind = rng.random()
        if kind < 0.45:
            n = "07" + rng.choice("345789") + "".join(rng.choice("0123456789") for _ in range(8))
            fmt = rng.choice([f"{n[:5]} {n[5:]}", f"{n[:5]} {n[5:8]} {n[8:]}", n])
        elif kind < 0.7:
            n = "01" + rng.choice(["13", "61", "21", "17", "31", "41", "51"]) + "".join(
                rng.choice("0123456789") for _ in range(7))
            n = n[:4] + rng.choice("2345789") + n[5:]
            fmt = rng.choice([f"{n[:4]} {n[4:7]} {n[7:]}", f"({n[:4]}) {n[4:7]} {n[7:]}",
                              f"{n[:4]}-{n[4:7]}-{n[7:]}"])
        elif kind < 0.85:
            n = "020" + rng.choice("378") + "".join(rng.choice("0123456789") for _ in range(7))
            fmt = rng.choice([f"{n[:3]} {n[3:7]} {n[7:]}", f"+44 20 {n[3:7]} {n[7:]}",
                              f"+44 (0)20 {n[3:7]} {n[7:]}"])
        else:
            n = "07" + rng.choice("4579") + "".join(rng.choice("0123456789") for _ in range(8))
            fmt = rng.choice([f"+44 {n[1:5]} {n[5:]}", f"+44{n[1:]}"])
        if _valid(n):
            return fmt


def intl_phone() -> str:
    while True:
        region, prefix, digits = rng.choice([("US", "+1", 10), ("FR", "+33", 9), ("IE", "+353", 9),
                                             ("AU", "+61", 9)])
        body = "".join(rng.choice("0123456789") for _ in range(digits))
        if region == "US":
            body = rng.choice("2345689") + body[1:3] + rng.choice("2345689") + body[4:]
        if region == "FR":
            body = rng.choice("1234567") + body[1:]
        if region == "IE":
            body = "8" + rng.choice("35679") + body[2:]
        if region == "AU":
            body = "4" + body[1:]
        if _valid(prefix + body, region):
            return f"{prefix} {body[:3]} {body[3:6]} {body[6:]}"


# Ofcom's ranges for drama and examples: possible, never valid, and exactly what a careful
# person types when they mean "a phone number" (and what a careless one may paste).
DRAMA = ["07700 900{d3}", "07700900{d3}", "01632 960{d3}", "(01632) 960 {d3}",
         "0113 496 0{d3}", "0114 496 0{d3}", "0117 496 0{d3}", "0121 496 0{d3}",
         "0131 496 0{d3}", "0141 496 0{d3}", "0151 496 0{d3}", "0161 496 0{d3}",
         "0191 498 0{d3}", "020 7946 0{d3}", "028 9649 6{d3}", "029 2018 0{d3}",
         "0306 999 0{d3}", "0808 157 0{d3}", "0909 879 0{d3}", "+44 7700 900{d3}",
         "+44 (0)1632 960{d3}", "0044 7700 900{d3}"]


def possible_uk_phone() -> str:
    """A UK number libphonenumber calls possible but not valid."""
    while True:
        if rng.random() < 0.8:
            text = rng.choice(DRAMA).format(d3=f"{rng.randint(0, 999):03d}")
        else:  # an unallocated mobile block: 07 + 9 digits, not valid today
            n = "07" + rng.choice("45") + "".join(rng.choice("0123456789") for _ in range(8))
            text = f"{n[:5]} {n[5:]}"
        digits = "".join(c for c in text if c.isdigit() or c == "+")
        try:
            number = phonenumbers.parse(digits.replace("0044", "+44", 1), "GB")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number) and not phonenumbers.is_valid_number(number):
            return text


def possible_intl_phone() -> str:
    """US fictional 555-01xx numbers: possible, not valid."""
    return f"+1 {rng.choice(['202', '312', '415'])} 555 01{rng.randint(0, 99):02d}"


# Numbers that look a little like phones and are not: the new "possible" rule must leave
# them alone (no trunk 0 or + before them, or the wrong length).
PHONE_NEGATIVES = """A1 we went from 0 to 1500 followers in a year
A2 version 0.9.1 of the rota app still crashes
A3 the 08:00 and 09:30 handovers are the busiest
A4 room 0113 on the ground floor
A5 score was 0-0 at half time, I checked mid-chat
A6 the 0800 line is free from mobiles now
A1 budget 0.5% of the total, about 12,000 pounds
A2 lol 007 would never post a patient's details
A3 the 2019/20 and 2020/21 surveys both asked this
A4 ward 10, bay 4, bed 0 (the side room)
A5 call 111 first, or 999 in an emergency
A6 we answer in 0 to 48 hours, target 24""".splitlines()


FIRST = ["jo", "sam", "priya", "tom", "aisha", "gareth", "mei", "olu", "kate", "dan"]
LAST = ["bloggs", "patel", "jones", "okafor", "smith", "nguyen", "evans", "khan"]
DOMAINS = ["nhs.net", "trust.nhs.uk", "gmail.com", "hotmail.co.uk", "nhsemployers.org",
           "example.ac.uk", "outlook.com"]


def email() -> str:
    f, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice([f"{f}.{last}", f"{f}{last}{rng.randint(1, 99)}", f"{f[0]}{last}",
                        f"hr-{last}", f"{f}_{last}"])
    return f"{local}@{rng.choice(DOMAINS)}"


AREAS = ["SW", "SE", "M", "LS", "B", "E", "N", "NW", "BS", "CF", "EH", "G", "L", "NE", "S",
         "OX", "CB", "BN", "PL", "EX"]
INWARD = "ABDEFGHJLNPQRSTUWXYZ"


def postcode() -> str:
    area = rng.choice(AREAS)
    district = str(rng.randint(1, 19 if len(area) == 2 else 9))
    inward = f"{rng.randint(0, 9)}{rng.choice(INWARD)}{rng.choice(INWARD)}"
    pc = f"{area}{district} {inward}"
    r = rng.random()
    return pc if r < 0.8 else (pc.replace(" ", "") if r < 0.9 else pc.lower())


MONTHS = ["January", "February", "March", "April", "June", "July", "September", "October",
          "December", "Mar", "Sept", "Nov"]


def dob_date() -> str:
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1930, 2005)
    return rng.choice([f"{d:02d}/{m:02d}/{y}", f"{d}/{m}/{y}", f"{d}.{m}.{str(y)[2:]}",
                       f"{d} {rng.choice(MONTHS)} {y}", f"{y}-{m:02d}-{d:02d}",
                       f"{rng.choice(MONTHS)} {d}, {y}", f"{d}-{m}-{y}"])


def tag() -> str:
    return rng.choice(["A1", "A2", "A3", "A4", "A5", "A6", ""]) + " "


NHS_T = ["{t}my patient's NHS number is {x} - can I share that with the ward?",
         "{t}a colleague posted {x} on Facebook last week, that's an NHS no!",
         "NHS no {x} keeps appearing in our Yammer group #NHSSM",
         "{t}example of what NOT to tweet: 'pt {x} discharged today'",
         "Please check {x} for me when you get a sec",
         "{t}nhs number: {x}. awful breach, reported to IG",
         "ref {x} on the referral letter"]
PHONE_T = ["{t}ring me on {x} if you want our policy",
           "{t}our comms team is on {x} #NHSSM",
           "call HR on {x} for advice",
           "{t}the ward number {x} was tweeted by a patient's relative",
           "text me {x} after the chat",
           "{t}helpline {x} (9-5 weekdays)"]
EMAIL_T = ["{t}email me at {x} and I'll send our guidance",
           "{t}drop a line to {x} #NHSSM",
           "contact {x} for the slides",
           "{t}send your case studies to {x}, thanks!",
           "My work address is {x}"]
POST_T = ["{t}our office is at {x}, pop in",
          "{t}she lives near {x}, posted a photo of the house",
          "the patient's postcode {x} was on the screenshot",
          "{t}send the forms to the trust HQ, {x}",
          "Event venue: {x} #NHSSM"]
DOB_T = ["{t}a nurse tweeted 'DOB {x}' with a photo of the wristband",
         "patient born on {x} - shouldn't be online",
         "{t}date of birth: {x} was visible in the screenshot",
         "d.o.b {x} again on the ward whiteboard photo",
         "{t}her date of birth is {x}, happy birthday!",
         "Born {x}, retiring next month after 40 years in the NHS"]
ABUSE = [("{t}this policy is total shit", "shit"), ("{t}HR can f*** off", "f***"),
         ("what a load of bollocks from the board", "bollocks"),
         ("{t}you absolute tw@t", "tw@t"), ("{t}sh1t guidance as usual", "sh1t"),
         ("managers are such a$$holes about Twitter", "a$$holes"),
         ("{t}f u c k this rota", "f u c k"), ("{t}stop being a d1ckhead", "d1ckhead"),
         ("bullshit, nobody reads the policy", "bullshit"), ("{t}what a wanker", "wanker"),
         ("{t}s.h.i.t.e response from comms", "s.h.i.t.e"),
         ("piss off with the jargon", "piss off"),
         ("{t}shiiiiit I missed Q2", "shiiiiit"), ("{t}that's fucking brilliant", "fucking"),
         ("{t}my manager is a total arsehole about this", "arsehole"),
         ("{t}you're a moron", "moron"), ("absolute FUCKWIT move by the trust", "FUCKWIT")]

# Spaced-out abuse the README promises to catch, and spaced letters that are not abuse.
SPACED_ABUSE = [("you are a c u n t!", "c u n t"), ("c.u.n.t. the lot of them", "c.u.n.t"),
                ("A2 c. u. n. t. of a policy", "c. u. n. t"), ("what a c  u  n  t", "c  u  n  t"),
                ("I am a t w a t for missing Q1", "t w a t"), ("s-h-i-t rota again", "s-h-i-t"),
                ("A3 HR are w.a.n.k.e.r.s", "w.a.n.k.e.r.s")]
SPACED_NEGATIVES = ["plan A B C for the rota", "U. S. A. staff joined too", "the N H S at 75",
                    "A. B. testing our tweets", "vitamin a b c d", "p. s. see you at 8",
                    "I a m not sure, Q2 next", "a s s e s s m e n t spelt out", "T. W. A. flights",
                    "c u soon all #NHSSM", "the A - Z of social media", "a.k.a. the comms team"]

NEGATIVES = """A1 Yes, our trust has a social media policy but most staff have never read it #NHSSM
A2 We use Twitter for recruitment and it works really well
A3 The canteen rule: if you wouldn't say it in the canteen, don't type it!
Welcome everyone to tonight's #NHSSM chat, 8pm-9pm
Q1 How does your HR department treat social media use by staff? #NHSSM
Q2 Should staff be allowed to say where they work in their bio?
Q3 What training do you give on confidentiality online?
A1 about 1,234 staff follow our account now
A2 we had 2013 new followers last year, coincidence?
A4 the 2013 briefing from NHS Employers is still worth reading
Chat starts at 20:00, see you there
Meeting moved to 8pm Wednesday 23/01
Wednesday 12/03 is our next training day
A1 see nhsemployers.org for the guidance
A2 our policy is at https://www.nhsemployers.org/social-media #NHSSM
Great point @NHSEmployers, thanks
A3 follow @NHSflufighter for the flu campaign
A1 Q3 T2, sorry getting my tags muddled
A5 totally agree with @PFDChamps
I work at Scunthorpe General and we block Twitter on site
Our assessment process includes a class on social media
The cocktail of policies is confusing for new starters
Therapists in our trust blog a lot
Essex and Middlesex trusts share a comms team
A1 2nd point: managers need training too
A2 1st time joining the chat, hello all!
A3 3rd year running we've done this
N1 1st floor training room is booked
Room 101 for the induction, bed 12 on ward 7
Extension 4821 is the IG team, bleep 1234 for on call
ref 1234567890 is our internal ticket
Order number 5551234567 never arrived
Budget of £1,500,000 for 2013/14 digital work
Version 2.0.1 of the app is out
COVID-19 changed everything in 2020
Q1 at 20:05, Q2 at 20:10, Q3 at 20:15
Score: 10 10 10 10 10
A4 yes! 100% agree
A1 the NHS number should never be shared online, full stop
A2 date of birth, address, NHS number: all confidential
A3 someone shared a DOB on our page once, we removed it within minutes
A4 I was born in 1974 and still learning Twitter
A5 my birthday is in March, does that count as data? ha
A1 phone numbers of wards are public anyway
A2 we share the switchboard number on our website
A3 email is still king for internal comms
A4 postcodes in photos are a real risk
A6 retweets are not endorsements, as everyone's bio says
Thanks all for a great chat tonight #NHSSM
Transcript will be up tomorrow
A1 we have 12 trusts in our network
A2 24/7 support from the comms team
A3 our staff survey had a 45% response rate
A1 see you at the 12.30 session
Top tip: check the privacy settings on Facebook
A2 LinkedIn is better for professional networking
Anyone else using YouTube for training videos?
A3 The Personal, Fair and Diverse campaign is great
A1 I'm new here, lurking mostly
A2 our policy was written in 2009, needs an update
A3 social media supports high quality patient care
A4 patients use it to understand healthcare choices
A5 staff engagement improves quality of care
A6 it lets us spot concerns about care quickly
Q4 What new arrangements could help managers?
Q5 How do you handle a staff member posting about a patient?
Q6 Final question: one thing you'll do differently?
A4 we'd start with a conversation, not a disciplinary
A5 escalate to IG within 24 hours
A6 read more blogs from colleagues
A1 the #nhssm hashtag has been brilliant for me
A2 sign up to quality social media sites for news
A3 Linked In and YouTube both work for us
A1 I'd rather have clarity than a blanket ban
A2 60 managers trained so far, 40 to go
A3 yes we run sessions every 3 months
A4 about 300-400 staff per year
A5 call it what it is: fear of the unknown
A6 love this chat, every Wednesday 8-9pm
A1 ward 10 and ward 11 both have Twitter accounts
A2 1 in 5 staff are on Twitter
A3 our CEO tweets at 7am every day
A4 the phone policy and the social media policy overlap
A1 I think the real issue is trust, not tech
A2 Shiitake soup in the canteen tonight, to stay on topic
A3 Arsenal fan here but I'll stay professional
A4 Dickens would have loved Twitter
A5 Sussex Partnership do this really well
A1 grass roots adoption beats top-down policy
A2 needle prick injuries are a big topic on our ward account
A3 the class of 2013 nursing students all use Twitter
A1 Hancock's 2018 tech vision mentioned social media too
A2 no comment :)
A3 +1 to what Jo said
A4 +100 this
A5 :-) great chat
A1 question tags A1, A2, A3 make the transcript easy
A2 T1 or Q1? we use Q
A3 4.5 out of 5 for tonight's chat
A1 our last survey: 87.5% satisfied
A2 code 12345 for the room door, only joking
A3 check out bit ly slash something, no
A4 e.g. our comms team, i.e. the 3 of us
A1 I.T. blocks Facebook on our wards
A2 the ICO fined a trust £200,000 in 2012
A3 nurses' pay band 5 and band 6 both covered
A1 CQC rating: good. Twitter rating: outstanding
A2 M&S in the hospital foyer sells good coffee
A3 the 9:30 and 14:00 slots are free
A4 the room is B12, second floor
A5 see table 3 in the briefing, page 14
A6 our number of followers: 3,210 and counting
A1 reply to Q1: yes
A2 lots of HR teams are still cautious
A3 I've shared the 2013 briefing with my team
A4 the briefing paper is worth downloading
A1 patient stories are powerful with consent
A2 consent forms are key, we use a 2-page one
A3 the 10 commandments of NHS tweeting, anyone?
A4 date of the next chat: 23 January
A5 born and bred in Leeds, working in Manchester
A6 my DOB is none of Twitter's business!
A1 our trust number is on the website, that's fine
A2 extension numbers change every year
A3 the email template is in the appendix
A4 postcode lottery of care is a real issue
A1 E1 through E10 are our ward codes
A2 we label questions W1, W2 on Wednesdays
A3 S1 to S9 for our staff survey sections
A1 the M1 was closed so I'm late, sorry
A2 the A1 road, not answer 1, was closed too
A3 M6 toll is worth it
A4 band 7 and 8a managers need the most support
Anyone else joining from Wales?
A1 chatting from the night shift, 2am break
A2 12 hour shifts make it hard to join
A3 1pm lunch chats might work better
A4 4-6pm is our quiet time
RT @NHSEmployers: join the #NHSSM chat tonight at 8pm
MT @someone great guidance on social media #NHSSM
A1 it's a 10-minute read, honestly
A2 we trained 1,000+ staff in 2012/13
A3 our handbook v3.2 covers it
A4 the 0.5 FTE comms role is not enough
A1 ISBN 9780141036144 is a good book on this
A2 ward phone extension 2345, but use the switchboard
A3 order ref 4567890123 from the print shop
A5 tracking no 7771234560 hasn't arrived
A6 serial 9876543211 on the laptop
A1 7 days a week, 365 days a year
A2 the 111 service tweets too
A3 999 is for emergencies, not Twitter DMs
A4 NHS 70 celebrations were great on social
A1 see slide 12 of 40
A2 born to tweet, apparently
A3 the birth of the #NHSSM chat was 2012
A4 our maternity unit had 5,000 births last year
A1 date of birth fields should be masked in screenshots
A2 remind staff: no DOBs, no NHS numbers, no names
A3 "DOB" is a column name in every PAS screenshot
A4 we blur the date column in training photos
A1 class act, @NHSEmployers
A2 hats off to the comms team
A3 I assess posts against the canteen rule
A4 the title of the policy is 'Social Media: Dos and Don'ts'
A5 do's and don'ts are clearer than 40 pages
A6 honest answer: we don't know yet""".splitlines()

TRICKY_NHS_NEGATIVE = ["NHS number {x} (invalid, I made it up)", "is {x} a real NHS no?",
                       "{t}ref {x} on the form"]


# Hunt 26b: identifiers in ordinary chat writing that slipped past (a tag or a bed number
# before the number, a number after it, two in a list, Unicode spaces and dashes,
# zero-width characters, fullwidth digits, DOB forms clinical systems print), and
# numbers, times, dates and tags beside one another that are none of them.
ZW = "\u200b"
FULLWIDTH = "".join(chr(0xFF10 + int(d)) for d in "9434765919")  # ９４３…
HUNT_POSITIVES = [
 ("A1 943 476 5919","nhs_number","943 476 5919"),
 ("A1 9434765919","nhs_number","9434765919"),
 ("Q2 9434765919 is on the wristband photo","nhs_number","9434765919"),
 ("bed 3 943 476 5919","nhs_number","943 476 5919"),
 ("A2 his number 9434765919 2 weeks ago","nhs_number","9434765919"),
 ("943 476 5919 401 023 2137","nhs_number","943 476 5919"),
 ("943 476 5919 401 023 2137","nhs_number","401 023 2137"),
 ("A1 NHS no 943  476  5919","nhs_number","943  476  5919"),
 ("A1 NHS no 943\u2009476\u20095919","nhs_number","943\u2009476\u20095919"),
 ("A1 NHS no 943\u202f476\u202f5919","nhs_number","943\u202f476\u202f5919"),
 ("A1 NHS no 943\u2007476\u20075919","nhs_number","943\u2007476\u20075919"),
 ("A1 NHS no 943\u2013476\u20135919","nhs_number","943\u2013476\u20135919"),
 ("A1 NHS no 943 \u2014 476 \u2014 5919","nhs_number","943 \u2014 476 \u2014 5919"),
 ("A1 NHS no "+ZW.join("9434765919"),"nhs_number",ZW.join("9434765919")),
 ("A1 NHS no "+"\u2060".join("9434765919"),"nhs_number","\u2060".join("9434765919")),
 ("A1 NHS no " + FULLWIDTH, "nhs_number", FULLWIDTH),
 ("A1 07911 123456","phone","07911 123456"),
 ("A2 0300 123 4567","phone","0300 123 4567"),
 ("Q3 020 7946 0018","phone","020 7946 0018"),
 ("ward 7 07911 123456","phone","07911 123456"),
 ("call 07911\u2009123456","phone","07911\u2009123456"),
 ("A1 ring "+ZW.join("07700900123"),"phone",ZW.join("07700900123")),
 ("A3 her son is on 07911 123456 2 nights a week","phone","07911 123456"),
 ("A4 07911 123456 07700 900321 both ring the ward","phone","07911 123456"),
 ("A4 07911 123456 07700 900321 both ring the ward","phone","07700 900321"),
 ("A5 bed 3 0161 496 0372 is the daughter","phone","0161 496 0372"),
 ("DOB 12-Mar-1954","dob","12-Mar-1954"),
 ("DOB 3 Sept. 1954","dob","3 Sept. 1954"),
 ("date of birth 3rd March '54","dob","3rd March '54"),
 ("born on the 3rd of March 1954","dob","3rd of March 1954"),
 ("DOB 1954/03/12","dob","1954/03/12"),
 ("A2 wristband said DOB 12\u2013Mar\u20131954","dob","12\u2013Mar\u20131954"),
 ("mail _jane@nhs.net","email","_jane@nhs.net"),
 ("A1 write to jane.doe\uff20nhs.net","email","jane.doe\uff20nhs.net"),
 ("lives at SW1A  1AA","postcode","SW1A  1AA"),
 ("A3 she lives at SW1A\u00a01AA","postcode","SW1A\u00a01AA"),
]
HUNT_NEGATIVES = """A1 bed 3 on ward 7, bay 12, room 101
A2 the 20:00 - 21:00 slot, then 21:15 - 22:00
A3 order no 1234 5678 90 arrived late
A4 we have 10 20 30 40 50 staff per shift pattern
A1 shifts 07:30-20:00 and 19:30-08:00
A2 Q1 12 Q2 15 Q3 9 answers so far
A3 2019 2020 2021 2022 2023 were all busy years
A4 Ward 7 Bed 12 Bay 4 Side room 2
A5 1 2 3 4 5 6 7 8 9 10 ways to tweet safely
A6 extension 4821 or bleep 1234, not 07 anything
A1 ref 0113 2451 3 on the letter
A2 score 3 - 1 to us, 2 - 2 last week
A3 page 14 of 40, table 3, figure 2.1
A4 version 10.2.3 and 10.2.4 both crash
A5 meeting on 12.03.2024 at 14.30 in room 0.12
A1 we saw 1 in 10, then 2 in 10, then 3 in 10
A2 born in 1974, qualified 1996, band 7 since 2010
A3 date of birth fields: we mask them all
A5 9434765918 is not valid, nor 943 476 5918
A6 call me maybe, ext 2345 2346 2347
A1 the order ref is 12345 67890
A2 ward 10 bed 4 2nd floor
A3 sessions at 09:00, 11:00, 13:00, 15:00
A4 costs £1 234 567 this year
A5 20 minutes, 30 minutes, 45 minutes
A1 grid ref SU 123 456
A2 see sections 1.2.3 and 4.5.6
A3 A1 A2 A3 A4 A5 A6
A4 team of 7 07:00 start
A5 the 0800 to 2000 shift pattern
A6 in 2 weeks 3 days 4 hours""".splitlines()


def build() -> list[dict]:
    rows: list[dict] = []

    def add(template: str, check: str, value: str) -> None:
        rows.append({"text": template.format(t=tag(), x=value).strip(),
                     "labels": [{"check": check, "match": value}]})

    for i in range(45):
        add(NHS_T[i % len(NHS_T)], "nhs_number", nhs())
    for i in range(40):
        add(PHONE_T[i % len(PHONE_T)], "phone", uk_phone())
    for i in range(8):
        add(PHONE_T[i % len(PHONE_T)], "phone", intl_phone())
    for i in range(35):
        add(EMAIL_T[i % len(EMAIL_T)], "email", email())
    for i in range(30):
        add(POST_T[i % len(POST_T)], "postcode", postcode())
    for i in range(30):
        add(DOB_T[i % len(DOB_T)], "dob", dob_date())
    for template, word in ABUSE:
        rows.append({"text": template.format(t=tag()).strip(),
                     "labels": [{"check": "abuse", "match": word}]})
    for _ in range(12):  # several identifiers in one message
        n, p, e = nhs(), uk_phone(), email()
        rows.append({"text": f"{tag()}pt {n}, NOK on {p} or {e} - please delete!".strip(),
                     "labels": [{"check": "nhs_number", "match": n},
                                {"check": "phone", "match": p},
                                {"check": "email", "match": e}]})
    for i in range(20):
        rows.append({"text": TRICKY_NHS_NEGATIVE[i % 3].format(t=tag(), x=nhs(valid=False))
                     .strip(), "labels": []})
    rows += [{"text": line.strip(), "labels": []} for line in NEGATIVES if line.strip()]
    for i in range(60):
        add(PHONE_T[i % len(PHONE_T)], "phone", possible_uk_phone())
    for i in range(6):
        add(PHONE_T[i % len(PHONE_T)], "phone", possible_intl_phone())
    rows += [{"text": line.strip(), "labels": []} for line in PHONE_NEGATIVES]
    rng.shuffle(rows)
    # Appended after the shuffle (no draws from rng), so the rows above stay as they were.
    rows += [{"text": text, "labels": [{"check": "abuse", "match": word}]}
             for text, word in SPACED_ABUSE]
    rows += [{"text": line, "labels": []} for line in SPACED_NEGATIVES]
    hunt: dict[str, list[dict]] = {}
    for text, check, match in HUNT_POSITIVES:  # one row per text, every label on it
        hunt.setdefault(text, []).append({"check": check, "match": match})
    rows += [{"text": text, "labels": labels} for text, labels in hunt.items()]
    rows += [{"text": line, "labels": []} for line in HUNT_NEGATIVES]
    return rows


def main() -> None:
    rows = build()
    OUT.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    print(f"wrote {len(rows)} lines to {OUT}")


if __name__ == "__main__":
    main()
