"""Find and scrub identifying details in vignette text before a set is shared.

casekit works on anonymized vignettes, but instructors adapt real cases, and one real name,
street or date left in a shared set is a confidentiality breach of its own. This module
lints vignette text for the HIPAA Safe Harbor identifiers that can occur in a clinical
narrative and replaces them with typed placeholders (``[NAME]``, ``[DATE]`` ...).

It runs Microsoft Presidio's analyzer fully offline: a blank spaCy pipeline held in memory
(no model download, nothing written to disk), Presidio's e-mail, URL and IP recognizers with
tldextract's remote suffix-list lookup switched off, and casekit's own recognizers, which find
names without an NER model (titles, "named X", appositions after relationship words, and a
first-name list from the ``names`` package, which ships the US census name files). The
analyzer is built on first use and cached, so importing this module is cheap.

Placeholder conventions ("Client A", "Ms. K.", "[NAME]", initials) and the vocabulary of
vignettes and rubrics ("the client", "his ex-wife", "Thursday", "Major Depressive Disorder")
are never flagged.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casekit.errors import Problem
from casekit.model import US_JURISDICTIONS, Vignette

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

__all__ = [
    "ENTITIES",
    "PLACEHOLDERS",
    "PiiFinding",
    "find_pii",
    "lint_findings",
    "lint_records",
    "lint_vignettes",
    "scrub_text",
    "scrub_vignettes",
]

#: Placeholder written by :func:`scrub_text` for each entity type (a fax number is a phone).
PLACEHOLDERS: dict[str, str] = {
    "NAME": "[NAME]",
    "DATE": "[DATE]",
    "PHONE": "[PHONE]",
    "FAX": "[PHONE]",
    "EMAIL": "[EMAIL]",
    "ADDRESS": "[ADDRESS]",
    "LOCATION": "[LOCATION]",
    "ZIP": "[ZIP]",
    "AGE": "[AGE]",
    "SSN": "[SSN]",
    "ID_NUMBER": "[ID]",
    "URL": "[URL]",
    "IP": "[IP]",
    "PLATE": "[PLATE]",
}
#: Entity types :func:`find_pii` reports.
ENTITIES: tuple[str, ...] = tuple(PLACEHOLDERS)

PII_MESSAGE = 'possible {entity} "{text}" at {start}-{end}'

# When two findings overlap, the longer wins; on equal length, the more specific type.
_SPECIFICITY = {
    "EMAIL": 9, "URL": 8, "SSN": 8, "FAX": 8, "PHONE": 7, "IP": 7, "DATE": 6, "ADDRESS": 6,
    "ID_NUMBER": 5, "PLATE": 5, "ZIP": 4, "AGE": 4, "NAME": 3, "LOCATION": 4,
}  # fmt: skip

_PRESIDIO_TYPES = {"EMAIL_ADDRESS": "EMAIL", "URL": "URL", "IP_ADDRESS": "IP"}


@dataclass(frozen=True, slots=True)
class PiiFinding:
    """One possible identifier in a text.

    ``text == source[start:end]`` always holds. ``entity`` is one of :data:`ENTITIES`;
    ``recognizer`` names the recognizer that found it.
    """

    entity: str
    text: str
    start: int
    end: int
    score: float
    recognizer: str

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.entity]


# A candidate span from one of casekit's own recognizers: (entity, start, end, score).
_Span = tuple[str, int, int, float]

# ---------------------------------------------------------------------------------------
# Vocabulary that is never a name.


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


def _phrases(block: str) -> frozenset[str]:
    return frozenset(p.strip() for p in block.split("|"))


_MONTHS = _words(
    "january february march april may june july august september october november december"
)
_MONTH_RE = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_WEEKDAYS = _words("monday tuesday wednesday thursday friday saturday sunday")

# Honorifics and titles that introduce a surname ("Dr. Alvarez", "Officer Brennan").
_TITLES = _words(
    """dr mr mrs ms miss mx prof professor officer detective det sgt sergeant judge justice
    coach pastor rev reverend deputy captain capt lt lieutenant nurse principal dean chief
    father sister brother rabbi imam sheriff trooper agent counselor attorney"""
)

# Relationship and role words: a capitalised word right after one is a name ("his cousin
# Dmitri", "the victim, Samantha Greer,").
_ROLES = _words(
    """mother father mom dad parent stepmother stepfather stepmom stepdad sister brother
    stepsister stepbrother son daughter stepson stepdaughter wife husband spouse ex exes
    ex-wife ex-husband ex-girlfriend ex-boyfriend ex-partner ex-fiance ex-fiancee girlfriend
    boyfriend partner fiance fiancee fiancé fiancée cousin uncle aunt nephew niece
    grandmother grandfather grandma grandpa grandson granddaughter grandchild in-law
    mother-in-law father-in-law sister-in-law brother-in-law roommate housemate neighbor
    neighbour friend coworker co-worker colleague supervisor manager boss foreman employer
    landlord landlady tenant teacher counselor therapist psychologist psychiatrist
    worker clinician intern student classmate teammate coach pastor victim target
    caregiver aide guardian stepchild child baby infant toddler teen teenager principal
    officer doctor physician nurse clerk lawyer attorney client patient manager director
    assistant receptionist babysitter nanny tutor mentor sponsor"""
)

# Words that occur capitalised in vignettes and rubrics and are never names on their own.
_VOCAB = _words(
    """in on at to of for from with by as so my see soon many else long ha mi nu era man
    lady miss king queen prince princess junior cal rptr app supp true false none null
    everyone someone nobody everybody somebody anyone anybody nothing something later
    earlier today tonight tomorrow yesterday staff police
    glock remington ruger beretta colt winchester sig sauer browning mossberg taurus
    smith wesson walmart costco facebook instagram snapchat tiktok twitter google uber lyft
    amazon xanax adderall zoloft prozac ambien narcan tylenol bible koran quran torah
    the a an and or but if then when while after before because since until unless
    he she they we you it his her their our your its him them us i me my mine this that
    these those there here what which who whom whose where why how not no yes all any
    some each every both either neither one two three four five six seven eight nine ten
    client clients patient patients person people student students teacher therapist
    therapists clinician clinicians counselor psychologist psychiatrist intern supervisor
    doctor nurse practitioner officer police court supreme regents university state
    department board services social behavioral sciences code ethics committee county
    city clinic hospital center centre school college church unit ward emergency room
    group session sessions intake assessment protocol risk scale rating severity score
    inventory index checklist questionnaire axis dsm icd disorder disorders depressive
    depression anxiety generalized major minor bipolar ptsd borderline personality
    substance use alcohol schizophrenia psychosis acute chronic mild moderate severe
    case vignette rubric duty warn protect tarasoff appendix table figure part section
    tag plate phone fax email record account number name names id mrn dob ssn
    american english spanish black white latino latina latinx hispanic asian native
    christian muslim jewish catholic protestant christmas easter thanksgiving halloween
    hanukkah ramadan passover new year years god lord mom dad ma pa sir madam maam ok
    okay hi hello hey dear thanks please sorry yes no maybe mr mrs ms dr jr sr ii iii
    security insurance medicaid medicare x y z va aa na cps aps er icu ed usa us america
    counsellor counsellors trainee trainees nan nana gran granny gulf war wars
    facilitator facilitators texter texters cellmate cellmates initially grade grades
    supervisee supervisees pop pops poppa mum mums cl geri capgras flatmate flatmates
    last leaf audi bmw toyota honda volkswagen england scotland wales also eventually
    explicitly mass mam consultant consultants
    tagalog filipino arabic mandarin cantonese urdu hindi punjabi somali farsi portuguese
    sat sun mon tue tues wed thu thur thurs fri little league route main
    january february march july august september october november december
    grandad granddad whoever whatever discord commodore like ima finna
    russian french german italian polish irish scottish welsh british canadian mexican
    chinese japanese korean vietnamese indian african european australian
    veteran veterans army navy marine marines air force guard national reserve northern
    southern eastern western north south east west central midwest person a b c d
    parkinson parkinson's alzheimer alzheimer's huntington huntington's crohn crohn's
    asperger asperger's tourette tourette's hodgkin hodgkin's addison addison's cushing
    cushing's graves gehrig gehrig's korsakoff wernicke lewy down's marfan raynaud
    pt pts hx dx rx tx sx fx px ah vh si hi htn mdd gad adhd ocd soap mse"""
)

# First names in the census lists that are also ordinary English words ("Will", "May",
# "Grace"): flagged only with a surname or in a name-ish context. Derived by intersecting
# the ``names`` first-name files with an English word list, then reviewed by hand.
_AMBIGUOUS_FIRST = _words(
    """abbey aide aline alpha amber an angel angelic angle art august aura autumn barb
    barney basil beau bee bell belle berry beryl bill birdie blanch blossom bob bong bonnie
    bonny brain brandy brook brooks buck bud buddy bunny buster camellia candy caprice
    carmine carol carry celesta chance charity chase chastity cherish cherry chi chin
    china christen chuck clay clement cliff colleen conception coral coy crystal curt
    dahlia daisy dale dawn dean deb dell delta desire destiny diamond dick dimple dolly
    don dot dotty drew dung dusty earl earnest ebony echo ed eddy else emerald emery era
    ester eve fairy faith fanny fawn fern flora forest foster frank freeman gala gale
    garland garnet garret gay gene genesis genie ginger glen glory golden grace grant guy
    ha hang hank harmony heath heather herb holly homer honey hope hue hung hunter
    hyacinth in iris ivory ivy jack jade jarred jasmine jasper jay jewel joy julienne
    junior karma king kit kitty lacy lady lance lane laurel lea lean lee liberty lien lily
    loan long lore love ma magnolia major man manual many maple margarita marina marine
    mark marlin marquis marry marvel mason max maxima may meg melody mercy merry meta mi
    mica min miss misty moon my myrtle newton noble noel nova novella nu numbers olive
    omega opal pa page pansy pasty pat patience patsy patty pearl pearly peg penny phoebe
    ping pinkie piper porter precious prince princess prudence queen randy raven ray reed
    rhea rich robin rocky rod roger romaine roman rose rosemary rosette rosy royal ruby
    rusty sage sally sandy sang sari savanna savannah scarlet season see shad sherry shin
    sibyl sierra so sol son song sonny soon sparkle spring star sterling stormy sue summer
    sun sung sunny sunshine tad tam tanner tawny temple tequila terry tiara tiny trinity
    troy valentine van velvet vi viola violet viva wade waldo walker wan ward warren wen
    will willow windy winter yen yon young yuk april june july"""
)

# A capitalised word followed by one of these is an institution or a place, not a person.
_STATE_WORDS = frozenset(w.lower() for name in US_JURISDICTIONS.values() for w in name.split())
_INSTITUTION = _words(
    """hospital clinic center centre court university college school church street avenue
    road lane drive county city department board code scale disorder syndrome institute
    foundation company corporation inc llc group services service program project park
    high middle elementary academy library mall store market bank hall house home
    memorial medical health community village valley river lake mountain heights hills
    springs beach island bridge station airport prison jail day days eve alert act law
    award prize test effect rule amendment"""
)

_PERSON_VERBS = _words(
    """said says told tells asked asks reported reports threatened texted phoned wrote called
    was is has had lives lived works worked came went left died"""
)
_REPORTING_VERBS = _words(
    "said says told tells asked asks reported reports threatened texted phoned wrote called"
)


@functools.cache
def _name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, last names) from the ``names`` package's census files, upper case."""
    import names  # the US census first/last name files, shipped in the wheel

    def read(path: str) -> frozenset[str]:
        with open(path, encoding="ascii") as fh:
            return frozenset(line.split(maxsplit=1)[0] for line in fh if line.strip())

    files: dict[str, str] = names.FILES
    first = read(files["first:male"]) | read(files["first:female"])
    return first, read(files["last"])


# ---------------------------------------------------------------------------------------
# Places.

# Large US cities whose names are not ordinary words; a mention of any is a geographic
# subdivision smaller than a state (Safe Harbor). States themselves are allowed.
_CITIES = _phrases(
    """New York City|Los Angeles|Chicago|Houston|Phoenix|Philadelphia|San Antonio|San Diego|
    Dallas|San Jose|Austin|Jacksonville|Fort Worth|Columbus|Charlotte|Indianapolis|
    San Francisco|Seattle|Denver|Oklahoma City|Nashville|El Paso|Boston|Portland|Las Vegas|
    Detroit|Memphis|Louisville|Baltimore|Milwaukee|Albuquerque|Tucson|Fresno|Sacramento|
    Kansas City|Mesa|Atlanta|Omaha|Colorado Springs|Raleigh|Long Beach|Virginia Beach|
    Miami|Oakland|Minneapolis|Tulsa|Bakersfield|Wichita|Arlington|Tampa|New Orleans|
    Cleveland|Honolulu|Anaheim|Lexington|Stockton|Henderson|Riverside|Newark|St. Louis|
    Saint Louis|Cincinnati|Pittsburgh|Anchorage|Greensboro|Plano|Lincoln|Orlando|Irvine|
    Toledo|Jersey City|Chula Vista|Durham|Fort Wayne|St. Petersburg|Laredo|Buffalo|Madison|
    Lubbock|Chandler|Scottsdale|Reno|Glendale|Gilbert|Winston-Salem|Chesapeake|Norfolk|
    Fremont|Garland|Irving|Hialeah|Richmond|Boise|Spokane|Baton Rouge|Tacoma|
    San Bernardino|Modesto|Fontana|Des Moines|Moreno Valley|Santa Clarita|Fayetteville|
    Birmingham|Oxnard|Rochester|Port St. Lucie|Grand Rapids|Huntsville|Salt Lake City|
    Frisco|Yonkers|Amarillo|Glendale|Huntington Beach|McKinney|Montgomery|Augusta|Akron|
    Little Rock|Tempe|Overland Park|Grand Prairie|Tallahassee|Cape Coral|Knoxville|
    Worcester|Chattanooga|Brownsville|Fort Lauderdale|Providence|Santa Rosa|Peoria|
    Sioux Falls|Vancouver|Ontario|Elk Grove|Pembroke Pines|Salem|Eugene|Corona|Springfield|
    Pasadena|Fort Collins|Joliet|Hayward|Alexandria|Syracuse|Savannah|Dayton|Hartford|
    Ann Arbor|Berkeley|Cambridge|Brooklyn|Manhattan|Queens|Bronx|Staten Island|Harlem|
    Albany|Trenton|Bangor|Burlington|Cheyenne|Billings|Fargo|Bismarck|Juneau|Olympia|
    Santa Fe|Boulder|Flagstaff|Duluth|St. Paul|Saint Paul|Topeka|Wilmington|Charleston|
    Asheville|Knoxville|Lansing|Green Bay|Gary|Evanston|Tuscaloosa|Biloxi|Shreveport|
    Galveston|Waco|Odessa|Midland|Pueblo|Yakima|Bellingham|Bend|Medford|Tacoma|Provo|
    Ogden|Sarasota|Gainesville|Pensacola|Macon|Athens|Roanoke|Scranton|Allentown|
    Harrisburg|Erie|Kalamazoo|Flint|Saginaw|Bloomington|Champaign|Cedar Rapids|
    Davenport|Sioux City|Missoula|Bozeman|Fairbanks|Hilo|Oahu|Maui"""
)
# "Mesa", "Gary", "Reno", "Bend"... are also words or first names: only flagged in the
# "<City>, <ST>" pattern, never alone.
_CITIES_ALONE = _CITIES - {
    "Mesa", "Gary", "Bend", "Salem", "Lincoln", "Madison", "Garland", "Arlington", "Ontario",
    "Vancouver", "Richmond", "Henderson", "Irving", "Glendale", "Gilbert", "Augusta",
    "Athens", "Cambridge", "Birmingham", "Peoria", "Corona", "Frisco", "Midland", "Odessa",
    "Savannah", "Montgomery", "Durham", "Charlotte", "Buffalo", "Phoenix", "Plano",
    "Providence", "Pueblo", "Manhattan", "Queens", "Long Beach", "Medford", "Flint",
    "Erie", "Macon", "Olympia", "Lansing", "Bloomington", "Springfield", "Worcester",
    "Hartford", "Alexandria", "Rochester", "Burlington", "Albany", "Columbus", "Dayton",
    "Toledo", "Portland", "Denver", "Austin", "Houston", "Dallas", "Lexington", "Chandler",
    "Wilmington", "Charleston", "Akron", "Tempe", "Provo", "Ogden", "Pasadena", "Irvine",
    "Fremont", "Hayward", "Joliet", "Stockton", "Riverside", "Newark", "Reno",
}  # fmt: skip

_STATE_NAMES = sorted(US_JURISDICTIONS.values(), key=len, reverse=True)
_STATE_CODES = sorted(code for code in US_JURISDICTIONS)
_STATE_RE = "(?:" + "|".join(re.escape(s) for s in _STATE_NAMES + _STATE_CODES) + ")"
_CAP = r"[A-Z][a-z]+(?:['’-][A-Z][a-z]+)*"

# ---------------------------------------------------------------------------------------
# casekit's regex recognizers. Each yields (entity, start, end, score).

_STREET_TYPES = (
    r"(?:(?:Street|Avenue|Road|Lane|Drive|Court|Boulevard|Way|Place|Terrace|Circle|Parkway"
    r"|Highway|Trail|Square|Loop|Alley|Row|Pike|Crescent|Close)\b"
    r"|(?:St|Ave|Rd|Ln|Dr|Ct|Blvd|Pl|Ter|Cir|Pkwy|Hwy|Trl|Sq)\b\.?)"
)
_ADDRESS = re.compile(
    r"\b\d{1,6}[A-Z]?\s+(?:[NSEW]\.?\s+|(?:North|South|East|West)\s+)?"
    r"(?:(?:[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))\s+){1,3}"
    + _STREET_TYPES
    + r"(?:,?\s+(?:Apt|Apartment|Unit|Suite|Ste|#)\.?\s*#?\s*[\w-]+)?"
    r"|\bP\.?\s?O\.?\s+Box\s+\d+\b"
)
_CITY_STATE = re.compile(
    r"\b(" + _CAP + r"(?:\s+" + _CAP + r"){0,2}),\s+" + _STATE_RE + r"\b(?!['’]?[a-z])"
)
_CITY_ALONE = re.compile(
    r"\b(?:"
    + "|".join(re.escape(c) for c in sorted(_CITIES_ALONE, key=len, reverse=True))
    + r")\b(?![-'’]?\w)"
)
_ZIP = re.compile(
    r"(?:\b"
    + _STATE_RE
    + r",?\s+|\b(?:zip|ZIP|Zip)(?:\s*code)?(?:\s+(?:is|was))?\s*:?\s*)(\d{5}(?:-\d{4})?)\b"
)
_DATE = re.compile(
    # March 3rd / May 14 / Feb. 21 / June 12, 2023 / March 2024
    r"\b" + _MONTH_RE + r"\.?\s+(?:\d{1,2}(?:st|nd|rd|th)?\b(?:,?\s+\d{4}\b)?|\d{4}\b)"
    # the 3rd of August / 3 August 2024
    r"|\b(?:the\s+)?\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_RE + r"\b(?:,?\s+\d{4}\b)?"
    # 04/17/1988, 2/9/24, 12-24-2022, 2024-03-18
    r"|\b\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})\b"
    r"|\b\d{1,2}-\d{1,2}-(?:\d{4}|\d{2})\b(?!-)"
    r"|\b(?:19|20)\d{2}-\d{1,2}-\d{1,2}\b"
)
_AGE = re.compile(
    r"\b(?:9\d|1[0-2]\d)(?:[- ]years?[- ]old\b|\s*(?:yo|y/o|y\.o\.)(?!\w)"
    r"|(?:st|nd|rd|th)\s+birthday)"
    r"|\b(?:age[ds]?|aged)\s+(?:9\d|1[0-2]\d)\b"
    r"|\bninety(?:-(?:one|two|three|four|five|six|seven|eight|nine))?[- ]years?[- ]old\b"
    r"|\b(?:in\s+(?:his|her|their)\s+)(?:90s|nineties)\b"
    r"|(?:(?<=\bturned\s)|(?<=\bturns\s)|(?<=\bturning\s))(?:9\d|1[0-2]\d)\b(?!\s*(?:mg|%|percent))"
    r"|(?:(?<=\bis\s)|(?<=\bwas\s)|(?<=\bnow\s))(?:9\d|1[0-2]\d)(?=\s*(?:[,.;)]|$|years?\b))"
    r"|(?<=,\s)(?:9\d|1[0-2]\d)(?=,)",
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"(?<![\w-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-])"
    r"|(?<![\w.-])\d{3}[-.]\d{4}(?![\w-]|\.\d)"
)
_FAX_BEFORE = re.compile(r"\bfax\b[^.\d]{0,20}$", re.IGNORECASE)
_FAX_AFTER = re.compile(r"^\s*\(?fax\)?", re.IGNORECASE)
_SSN = re.compile(
    r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])"
    r"|(?:\bSSN|\bsocial security(?: number| no\.?| #)?)\s*:?\s*#?\s*(\d{9})\b",
    re.IGNORECASE,
)
_ID_KEYWORDS = (
    r"(?:MRN|medical record(?:\s+(?:number|no\.?|#))?|record(?:\s+(?:number|no\.?))?\s*#?"
    r"|account(?:\s+(?:number|no\.?))?\s*#?|acct\.?|member\s+ID|policy(?:\s+number)?"
    r"|licen[cs]e(?:\s+(?:number|no\.?))?|case(?:\s+(?:number|no\.?))\s*#?|chart(?:\s+number)?\s*#?"
    r"|patient\s+(?:ID|number)|(?:ID|identification)(?:\s+number)?|claim(?:\s+number)?"
    r"|NPI|DEA|badge(?:\s+number)?|passport(?:\s+number)?|docket(?:\s+number)?"
    r"|inmate(?:\s+number)?|booking(?:\s+number)?)"
)
_ID = re.compile(
    r"\b"
    + _ID_KEYWORDS
    + r"(?:\s+(?:is|was))?\s*(?:#|:|no\.?|number)?\s*([A-Z]{0,4}-?\d[\dA-Z-]{3,}\d?)\b"
    r"|(?<![\w-])(\d{8,}|\d{3,}-\d{3,}-\d{2,})(?![\w-])",
    re.IGNORECASE,
)
_PLATE = re.compile(
    r"\b(?i:(?:licen[cs]e\s+)?(?:plate|plates|tag)(?:\s+(?:number|no\.?|#))?)"
    r"(?:\s+(?:is|was|reads))?\s*:?\s*"
    # upper-case letters and digits, at least one of each: "7KQP142", "BXR-4471", "LMV 3920"
    r"((?=[A-Z0-9 -]{0,9}\d)(?=[A-Z0-9 -]{0,9}[A-Z])[A-Z0-9]{1,4}[- ]?[A-Z0-9]{2,5})\b"
)


def _regex_spans(text: str) -> Iterator[_Span]:
    """Addresses, places, dates, ages, numbers: everything but names."""
    for m in _ADDRESS.finditer(text):
        yield ("ADDRESS", m.start(), m.end(), 0.85)
    for m in _CITY_STATE.finditer(text):
        city = m.group(1)
        if _is_placeholder_word(city.split()[0]) or city.split()[-1].lower() in _VOCAB:
            continue
        yield ("LOCATION", m.start(), m.end(), 0.75)
    for m in _CITY_ALONE.finditer(text):
        yield ("LOCATION", m.start(), m.end(), 0.6)
    for m in _ZIP.finditer(text):
        yield ("ZIP", m.start(1), m.end(1), 0.7)
    for m in _DATE.finditer(text):
        start = m.start()
        if text.startswith("the ", start):
            start += 4
        if _is_plausible_date(m.group()):
            yield ("DATE", start, m.end(), 0.8)
    for m in _AGE.finditer(text):
        yield ("AGE", m.start(), m.end(), 0.8)
    for m in _PHONE.finditer(text):
        is_fax = _FAX_BEFORE.search(text, 0, m.start()) or _FAX_AFTER.match(text[m.end() :])
        yield ("FAX" if is_fax else "PHONE", m.start(), m.end(), 0.75)
    for m in _SSN.finditer(text):
        group = 1 if m.group(1) else 0
        yield ("SSN", m.start(group), m.end(group), 0.85)
    for m in _ID.finditer(text):
        group = 1 if m.group(1) else 2
        yield ("ID_NUMBER", m.start(group), m.end(group), 0.7 if group == 1 else 0.4)
    for m in _PLATE.finditer(text):
        yield ("PLATE", m.start(1), m.end(1), 0.7)


_NUMERIC_DATE = re.compile(r"(\d+)[/-](\d+)[/-](\d+)")


def _is_plausible_date(found: str) -> bool:
    m = _NUMERIC_DATE.fullmatch(found)
    if not m:
        return True
    a, b, c = (int(g) for g in m.groups())
    if len(m.group(1)) == 4:  # ISO yyyy-mm-dd
        return 1 <= b <= 12 and 1 <= c <= 31
    return 1 <= a <= 12 and 1 <= b <= 31


# ---------------------------------------------------------------------------------------
# Names.

# Capitalised words that start at a word boundary: "Okafor", "McConnell", "O'Brien",
# "Mary-Kate"; then titles and initials ("Dr", "K."). Never the tail of "DataFrame".
_TOKEN = re.compile(
    r"(?<![\w'’-])(?:[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:['’-][A-Z][a-z]+)*|[A-Z]['’][A-Z][a-z]+)"
    r"(?![\w-])|(?<![\w'’-])[A-Z][a-z]*\.?"
)
# Case citations ("Thompson v. County of Alameda") name parties to public decisions. Found
# from the " v. " outwards, over a bounded number of words, so long text stays linear.
_VERSUS = re.compile(r"(?<=\S)\s+v\.?\s+(?=[A-Z])")
_PARTY_BEFORE = re.compile(r"(?:[A-Z][\w'’.-]*\s+(?:of\s+|the\s+)?){0,5}[A-Z][\w'’.-]*$")
_PARTY_AFTER = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|of|the|and|for|&)){0,8}")


def _citation_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _VERSUS.finditer(text):
        window = max(0, m.start() - 80)
        head = _PARTY_BEFORE.search(text, window, m.start())
        tail = _PARTY_AFTER.match(text, m.end())
        start = head.start() if head else m.start()
        spans.append((start, tail.end() if tail else m.end()))
    return spans


_NAME_CUE = re.compile(
    r"\b(?:named|called|calling\s+(?:himself|herself|themself)|goes\s+by|name\s+is|known\s+as"
    r"|nicknamed|signed\s+as)\s+$",
    re.IGNORECASE,
)
_PERSON_OBJECT = re.compile(
    r"\b(?:with|told|asked|texted|called|phoned|emailed|messaged)\s+$", re.IGNORECASE
)
_DETERMINERS = _words("the a an his her their our my your its this that these those")
_CITATION = re.compile(r"\s+v\.?\s")
_SAINT = re.compile(r"\b(?:St\.?|Saint|Ste\.?)\s+$")
_INSTITUTION_AFTER = re.compile(
    r"['’]s\s+(?:" + "|".join(sorted(_INSTITUTION)) + r")\b", re.IGNORECASE
)
_ROLE_BEFORE = re.compile(r"([A-Za-z-]+)(?:['’]s)?,?\s+$")
_MONTH_CONTEXT = re.compile(
    r"\b(?:in|on|by|since|until|till|through|during|of|last|next|this|early|late|mid|"
    r"from|to|between|before|after)\s+$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(
    r"(?:^|[.!?:;|#>•]['\"’”)\]*]*\s*|\n\s*|(?:^|\s)[-*]\s+|['\"‘“(\[*]\s*)$"
)


def _is_placeholder_word(word: str) -> bool:
    return word.lower().rstrip(".") in _VOCAB


def _sentence_initial(text: str, start: int) -> bool:
    return _SENTENCE_END.search(text[max(0, start - 6) : start]) is not None or start == 0


def _name_spans(text: str) -> Iterator[_Span]:
    first_names, last_names = _name_lists()
    tokens = list(_TOKEN.finditer(text))
    cited = _citation_spans(text)
    words = re.findall(r"\b[A-Za-z]{4,}\b", text)
    # In Title Case Text every word is capitalised, so a lone surname-like word means nothing.
    title_case = len(words) >= 3 and sum(w[0].isupper() for w in words) > 0.6 * len(words)

    def word(i: int) -> str:
        return tokens[i].group().rstrip(".")

    def adjacent(i: int) -> bool:
        """Token i+1 follows token i after a single run of spaces."""
        return (
            i + 1 < len(tokens)
            and text[tokens[i].end() : tokens[i + 1].start()] in (" ", "  ")
            and not tokens[i].group().endswith(".")
        )

    def namelike(i: int) -> bool:
        w = tokens[i].group()
        return (
            len(w) >= 2
            and not w.endswith(".")
            and w.lower() not in _VOCAB
            and w.lower() not in _ROLES
            and (w.lower() not in _MONTHS or w.lower() in _AMBIGUOUS_FIRST)
            and w.lower() not in _STATE_WORDS
            and w.lower() not in _WEEKDAYS
            and w.lower() not in _TITLES
        )

    def surname_run(i: int, limit: int = 2) -> int:
        """Index of the last name-like token in a run starting after token i."""
        j = i
        while j - i < limit and adjacent(j) and namelike(j + 1):
            if tokens[j + 1].group().lower() in _INSTITUTION:
                return i - 1  # "Grace Hospital": the whole run is an institution
            j += 1
        if j + 1 < len(tokens) and adjacent(j) and tokens[j + 1].group().lower() in _INSTITUTION:
            return i - 1
        return j

    i = 0
    while i < len(tokens):
        tok = tokens[i]
        w = word(i)
        lw = w.lower()
        before = text[max(0, tok.start() - 40) : tok.start()]

        # Titles: "Dr. Alvarez", "Mrs. Okafor", "Officer Brennan" (not "Ms. K.", "Dr. X").
        if lw in _TITLES and i + 1 < len(tokens):
            gap = text[tok.end() : tokens[i + 1].start()]
            spaced = gap in (" ", ". ", "  ") or (tok.group().endswith(".") and gap == " ")
            if spaced and namelike(i + 1):
                j = surname_run(i + 1)
                if j >= i + 1:
                    yield ("NAME", tok.start(), tokens[j].end(), 0.85)
                    i = j + 1
                    continue
            i += 1
            continue

        if not namelike(i):
            i += 1
            continue

        is_first = w.upper() in first_names
        ambiguous = lw in _AMBIGUOUS_FIRST
        initial = _sentence_initial(text, tok.start())
        cue = _NAME_CUE.search(before) is not None
        role_m = _ROLE_BEFORE.search(before)
        role = role_m is not None and role_m.group(1).lower() in _ROLES and not title_case
        j = surname_run(i)
        has_surname = (
            j > i
            and tokens[j].group().upper() in last_names
            and tokens[j].group().lower() not in _MONTHS
        )
        if j < i or _SAINT.search(before) or _INSTITUTION_AFTER.match(text, tokens[j].end()):
            # "Grace Hospital", "St. Mary's", "Mercy's Clinic": a place, not a person.
            i += 1
            continue

        if cue or role:
            yield ("NAME", tok.start(), tokens[j].end(), 0.8)
            i = j + 1
            continue
        if is_first and not ambiguous:
            yield ("NAME", tok.start(), tokens[j].end(), 0.7 if j == i else 0.8)
            i = j + 1
            continue
        if is_first and has_surname:
            yield ("NAME", tok.start(), tokens[j].end(), 0.7)
            i = j + 1
            continue
        if is_first and ambiguous and j == i:
            after = text[tok.end() : tok.end() + 12]
            next_word = after.split(maxsplit=1)[0].strip(",.;:!?") if after.strip() else ""
            is_month = lw in _MONTHS and (
                _MONTH_CONTEXT.search(before) is not None or after.lstrip()[:1].isdigit()
            )
            reporting = next_word.lower() in _REPORTING_VERBS
            if i > 0 and adjacent(i - 1) and not tokens[i - 1].group().endswith("."):
                reporting = False
                initial = True  # "Christmas Eve", "Hail Mary": part of a longer proper name
            if not is_month and (reporting or (not initial and not after[:1].isalnum())):
                yield ("NAME", tok.start(), tok.end(), 0.6)
            i += 1
            continue
        if any(cs <= tok.start() < ce for cs, ce in cited):
            i += 1
            continue
        if (
            not is_first
            and j == i
            and not initial
            and not title_case
            and len(w) >= 3
            and w.upper() in last_names
        ):
            # A census surname alone, mid-sentence ("the Okafor case"), unless it is part of
            # a longer proper name ("New York") or a case citation ("Thompson v. County").
            joined = i > 0 and adjacent(i - 1) and tokens[i - 1].group().lower() not in _DETERMINERS
            if not joined and not _CITATION.match(text, tok.end()) and not before.endswith("v. "):
                yield ("NAME", tok.start(), tok.end(), 0.5)
            i += 1
            continue
        if not is_first and j == i and not title_case:
            # A capitalised word in neither census list ("Priya") is a name when a person-verb
            # follows it, or, mid-sentence, when it is the object of talking to someone.
            following = text[tok.end() : tok.end() + 14].split(maxsplit=1)
            speaks = bool(following) and following[0].strip(",.;:") in _REPORTING_VERBS
            joined = i > 0 and adjacent(i - 1)
            addressed = not initial and _PERSON_OBJECT.search(before) is not None
            if not joined and (speaks or addressed) and w.upper() not in last_names:
                yield ("NAME", tok.start(), tok.end(), 0.5)
                i += 1
                continue
        if not is_first and j > i and has_surname:
            # "... coworker Tomasz Nowak": unknown given name + census surname. At the start
            # of a sentence ("Tomasz Nowak was ...") only when a person-verb follows.
            following = text[tokens[j].end() : tokens[j].end() + 14].split(maxsplit=1)
            verb = bool(following) and following[0].strip(",.;:") in _PERSON_VERBS
            if not initial or verb or text.startswith(",", tokens[j].end()):
                yield ("NAME", tok.start(), tokens[j].end(), 0.6)
                i = j + 1
                continue
        i += 1


# ---------------------------------------------------------------------------------------
# Presidio.

_RECOGNIZERS: dict[str, Callable[[str], Iterator[_Span]]] = {
    "CasekitNameRecognizer": _name_spans,
    "CasekitPatternRecognizer": _regex_spans,
}


@functools.cache
def _analyzer() -> AnalyzerEngine:
    """Build the offline Presidio analyzer once: blank spaCy in memory, no downloads."""
    import tldextract

    # Presidio's EmailRecognizer validates domains with tldextract, which otherwise fetches
    # the public-suffix list over the network on first use; use the bundled snapshot.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())

    import spacy
    from presidio_analyzer import (
        AnalyzerEngine,
        EntityRecognizer,
        RecognizerRegistry,
        RecognizerResult,
    )
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        EmailRecognizer,
        IpRecognizer,
        UrlRecognizer,
    )

    class _InMemorySpacyEngine(SpacyNlpEngine):
        """A SpacyNlpEngine over a blank English pipeline: never loads or downloads a model."""

        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}  # type: ignore[assignment]

    class _CasekitRecognizer(EntityRecognizer):
        def __init__(self, name: str, spans: Callable[[str], Iterator[_Span]]) -> None:
            self._spans = spans
            self._label = name
            super().__init__(supported_entities=list(ENTITIES), name=name)

        def load(self) -> None:
            pass

        def analyze(self, text: str, entities: Any, nlp_artifacts: Any = None) -> list[Any]:
            return [
                RecognizerResult(
                    entity,
                    start,
                    end,
                    score,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self._label,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
                for entity, start, end, score in self._spans(text)
            ]

    recognizers: list[EntityRecognizer] = [EmailRecognizer(), UrlRecognizer(), IpRecognizer()]
    recognizers += [_CasekitRecognizer(name, fn) for name, fn in _RECOGNIZERS.items()]
    nlp_engine = _InMemorySpacyEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    nlp_engine.load()
    return AnalyzerEngine(
        registry=RecognizerRegistry(recognizers=recognizers, supported_languages=["en"]),
        nlp_engine=nlp_engine,
        supported_languages=["en"],
    )


def _resolve(findings: list[PiiFinding]) -> list[PiiFinding]:
    """Keep a non-overlapping subset: longer spans first, then the more specific type."""
    ranked = sorted(
        findings,
        key=lambda f: (-(f.end - f.start), -_SPECIFICITY[f.entity], -f.score, f.start),
    )
    kept: list[PiiFinding] = []
    for f in ranked:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


_PLACEHOLDER_RE = re.compile(r"\[(?:" + "|".join(p[1:-1] for p in PLACEHOLDERS.values()) + r")\]")


def find_pii(text: str) -> list[PiiFinding]:
    """Find possible identifiers in ``text``.

    Parameters
    ----------
    text : str
        Vignette text (any length).

    Returns
    -------
    list of PiiFinding
        Sorted by start, non-overlapping; where recognizers disagree the longer span wins,
        then the more specific type. Typed placeholders such as ``[NAME]`` are never flagged.

    Examples
    --------
    >>> [(f.entity, f.text) for f in find_pii("Dr. Alvarez saw Client A on March 3rd.")]
    [('NAME', 'Dr. Alvarez'), ('DATE', 'March 3rd')]
    """
    if not text.strip():
        return []
    results = _analyzer().analyze(text=text, language="en")
    placeholders = [(m.start(), m.end()) for m in _PLACEHOLDER_RE.finditer(text)]
    found: list[PiiFinding] = []
    for r in results:
        entity = _PRESIDIO_TYPES.get(r.entity_type, r.entity_type)
        if entity not in PLACEHOLDERS or r.end <= r.start:
            continue
        if any(r.start < pe and r.end > ps for ps, pe in placeholders):
            continue
        if entity == "URL" and not text[r.start].isalnum():
            continue  # "...Yeah" is an ellipsis, not the host ".ye": a URL starts with a label
        meta = r.recognition_metadata or {}
        recognizer = str(meta.get("recognizer_name", "presidio"))
        found.append(PiiFinding(entity, text[r.start : r.end], r.start, r.end, r.score, recognizer))
    return _resolve(found)


def scrub_text(text: str) -> str:
    """Replace every finding of :func:`find_pii` with its typed placeholder.

    Scrubbing repeats until nothing is found, because removing one identifier can change
    the context of another ("May 14" -> "May [ID]"); so ``find_pii(scrub_text(x)) == []``
    and ``scrub_text(scrub_text(x)) == scrub_text(x)``. Each pass replaces text outside
    placeholders with placeholders, so the loop ends.

    Examples
    --------
    >>> scrub_text("Call Mrs. Okafor at (206) 555-0143.")
    'Call [NAME] at [PHONE].'
    """
    while found := find_pii(text):
        out: list[str] = []
        pos = 0
        for f in found:
            out.append(text[pos : f.start])
            out.append(f.placeholder)
            pos = f.end
        out.append(text[pos:])
        text = "".join(out)
    return text


_LINT_FIELDS = ("title", "text")


def lint_findings(vignettes: Sequence[Vignette]) -> list[tuple[int, Vignette, str, PiiFinding]]:
    """Every possible identifier in a vignette set.

    Parameters
    ----------
    vignettes : sequence of Vignette

    Returns
    -------
    list of (record index, vignette, field, finding)
        ``field`` is ``"title"`` or ``"text"``; offsets are into that field.
    """
    out: list[tuple[int, Vignette, str, PiiFinding]] = []
    for index, vignette in enumerate(vignettes):
        for field in _LINT_FIELDS:
            for finding in find_pii(getattr(vignette, field)):
                out.append((index, vignette, field, finding))
    return out


def lint_vignettes(vignettes: Sequence[Vignette], file: str = "<input>") -> list[Problem]:
    """Possible identifiers in a vignette set, as :class:`~casekit.errors.Problem` (kind "pii").

    Parameters
    ----------
    vignettes : sequence of Vignette
    file : str
        Name of the file the vignettes came from, for messages.

    Returns
    -------
    list of Problem
        One per finding, e.g. ``possible NAME "Dr. Alvarez" at 0-11``, naming the record
        index, id and field. Empty when the set looks anonymized.
    """
    return [
        Problem(
            file=file,
            message=PII_MESSAGE.format(entity=f.entity, text=f.text, start=f.start, end=f.end),
            record=index,
            id=vignette.id,
            field=field,
            kind="pii",
        )
        for index, vignette, field, f in lint_findings(vignettes)
    ]


def scrub_vignettes(vignettes: Sequence[Vignette]) -> list[Vignette]:
    """Copies of ``vignettes`` with identifiers in ``text`` and ``title`` replaced.

    The input vignettes are never changed (they are frozen; new ones are built with
    :func:`dataclasses.replace`).
    """
    return [
        dataclasses.replace(v, text=scrub_text(v.text), title=scrub_text(v.title))
        for v in vignettes
    ]


def lint_records(vignettes: Sequence[Vignette]) -> list[dict[str, Any]]:
    """Every finding as the DESIGN §5 ``check --format json`` object.

    Returns
    -------
    list of dict
        ``{"record", "id", "kind": "pii", "field", "entity", "text", "start", "end",
        "message"}``, in record order.
    """
    return [
        {
            "record": index,
            "id": vignette.id,
            "kind": "pii",
            "field": field,
            "entity": f.entity,
            "text": f.text,
            "start": f.start,
            "end": f.end,
            "message": PII_MESSAGE.format(entity=f.entity, text=f.text, start=f.start, end=f.end),
        }
        for index, vignette, field, f in lint_findings(vignettes)
    ]
