"""Build data/anonymity/passages.jsonl, the labelled PII test set for casekit.anonymize.

Written for casekit. Every passage below was hand-written for the project; every name,
street, city pairing, date, number and address in them is invented (phones use the
555-01xx fiction range, e-mail and web addresses use example.org / example.com, SSNs use
the never-issued 000 and 666 areas). Identifiers are marked up inline as
``{ENTITY:text}``; this script strips the mark-up and computes exact character offsets,
so the gold spans always satisfy ``text[start:end] == marked text``.

The split (``tuning`` 60 % / ``heldout`` 40 %) is drawn with a fixed seed before any
recognizer was tuned, so the held-out numbers in bench/anonymity.py are honest.

Run from the repository root::

    python data/anonymity/make_passages.py
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

SEED = 20261127
SOURCE = "written for casekit (data/anonymity/make_passages.py); all identifiers invented"
OUT = Path(__file__).with_name("passages.jsonl")
MARK = re.compile(r"\{([A-Z_]+):([^{}]+)\}")
ENTITIES = {
    "NAME", "DATE", "PHONE", "EMAIL", "ADDRESS", "LOCATION", "ZIP", "AGE", "SSN",
    "ID_NUMBER", "URL", "IP", "PLATE", "FAX",
}  # fmt: skip

# Passages that contain identifiers (marked up).
WITH_PII = [
    "{NAME:Dr. Alvarez} saw the client on {DATE:March 3rd} after the client's sister called.",
    "{NAME:Mrs. Okafor} told the intake worker that her son had bought a rifle last week.",
    "The client, a man named {NAME:Trevor}, said he would wait for his ex-wife outside her work.",
    "Her supervisor, {NAME:Dana Whitfield}, has received two threatening voicemails.",
    "He lives at {ADDRESS:418 Birchwood Lane} and says the neighbor's dog keeps him up.",
    "Call the on-call clinician at {PHONE:(206) 555-0143} if the client calls back tonight.",
    "The mother emailed {EMAIL:k.ramsey@example.org} asking whether the session notes are private.",
    "Date of birth: {DATE:04/17/1988}. The client presents with escalating anger at a coworker.",
    "The client's SSN ({SSN:000-42-7719}) was written on the referral form by mistake.",
    "{ID_NUMBER:MRN 00482913} was admitted after threatening his brother with a knife.",
    "She drove a gray sedan, plate {PLATE:7KQP142}, and parked outside the ex-boyfriend's house.",
    "The referral came from a clinic in {LOCATION:Dayton, Ohio} after the client moved.",
    "Send records to the school counselor at {FAX:fax (312) 555-0177} before Friday.",
    "The patient, a {AGE:94-year-old} widower, said he would shoot the next person who "
    "entered his yard.",
    "He posted the threat on {URL:https://forum.example.com/t/88213} and then deleted it.",
    "The messages were traced to {IP:192.0.2.44}, the library computer he uses.",
    "{NAME:Marcus} said that if {NAME:Kelly} leaves him, he will burn the house down with "
    "her inside.",
    "The client called {NAME:Officer Brennan} a liar and said he knows where the officer lives.",
    "On {DATE:June 12, 2023}, the client disclosed that she had been following her former partner.",
    "Her new address is {ADDRESS:2231 W. Mercer Street, Apt 4B}, {LOCATION:Fresno, CA} "
    "{ZIP:93701}.",
    "{NAME:Jamal Peters}, the client's roommate, phoned to report the threat.",
    "The therapist, {NAME:Dr. Linnea Ostrowski}, consulted her supervisor the same afternoon.",
    "He said {NAME:Brandon} at the warehouse 'has it coming' and that he owns a pistol.",
    "Account number {ID_NUMBER:4471-2290-18} was listed on the billing statement.",
    "The client was born on {DATE:September 9, 1979} and has two prior assault arrests.",
    "Reach his probation officer at {PHONE:555-0192} during business hours.",
    "The client's daughter, {NAME:Priya}, is the one he says he will 'make disappear'.",
    "{NAME:Mr. Delacroix} reported that his son threatened the coach at practice.",
    "Records were requested by {EMAIL:intake-team@example.com} on {DATE:2/9/2024}.",
    "She works at the bakery on {ADDRESS:77 Harbor Road} and he knows her shift ends at six.",
    "The family moved from {LOCATION:Tacoma, WA} to a rural county last year.",
    "Her {AGE:91-year-old} father has dementia and threatened the home aide with a cane.",
    "The teen told his counselor that {NAME:Ethan Brooks} would 'not survive Monday'.",
    "Medical record number {ID_NUMBER:55-208-731} belongs to the client's brother.",
    "He keeps a hunting rifle at his cabin near {LOCATION:Bend, Oregon}.",
    "The intake note lists a cell phone of {PHONE:541-555-0118} and no emergency contact.",
    "{NAME:Mrs. Nakamura} called on {DATE:May 14} to say her husband had loaded the shotgun.",
    "The client's wife, {NAME:Rosalind}, has a protective order against him.",
    "A coworker named {NAME:Gus Halvorsen} overheard the client describe a plan to ambush "
    "the manager.",
    "Please mail the release to {ADDRESS:1500 Orchard Avenue}, {LOCATION:Springfield, IL} "
    "{ZIP:62704}.",
    "The client wrote his Social Security number, {SSN:666-10-2387}, on the safety plan.",
    "She said her ex, {NAME:Curtis}, follows her home from the night shift.",
    "The client's license plate {PLATE:BXR-4471} was recorded by campus security.",
    "His driver's license number {ID_NUMBER:D4827719} appears in the police report.",
    "The school psychologist, {NAME:Ms. Abernathy}, heard the threat during lunch duty.",
    "He mentioned that he had visited {URL:www.example.org/guns} to compare prices.",
    "The threat was made on {DATE:12/24/2022} at the client's mother's house.",
    "He said he would go to {ADDRESS:19 Cypress Court} tonight and settle it.",
    "She can be reached at {EMAIL:jmorales@example.net} or at {PHONE:(415) 555-0166}.",
    "The case manager, {NAME:Ifeoma Chukwu}, documented the call in the chart.",
    "A {AGE:97-year-old} resident told staff he would stab his roommate.",
    "The client's stepfather, {NAME:Raymond Teague}, keeps guns in an unlocked closet.",
    "The client lives just outside {LOCATION:Boise, ID} with his uncle.",
    "On {DATE:the 3rd of August}, the client stopped taking his medication.",
    "Patient account #{ID_NUMBER:88201937} shows three missed appointments.",
    "{NAME:Dr. Feld} asked the client whether he still had access to the revolver.",
    "The threat targeted {NAME:Lucia Moreno}, the client's former landlord.",
    "Send the duty-to-warn letter to {ADDRESS:3120 Elm Street}, {LOCATION:Omaha, NE} {ZIP:68131}.",
    "The client said {NAME:Kevin} from accounting 'will pay for what he did'.",
    "Her grandson logged in from {IP:203.0.113.9} to send the messages.",
    "The hospital fax line is {FAX:(503) 555-0139 (fax)}.",
    "He was seen in the emergency department on {DATE:October 2nd} after the fight.",
    "The victim, {NAME:Samantha Greer}, has moved in with her parents.",
    "His cousin {NAME:Dmitri} said the client showed him the gun in the car.",
    "The client's record # {ID_NUMBER:A-339104} was flagged for violence risk.",
    "Reports place the client at {ADDRESS:900 N. Lakeshore Drive} on the night of the threat.",
    "The supervising psychologist is {NAME:Dr. Hannah Vo}, who reviewed the note.",
    "He threatened the clerk at the pharmacy in {LOCATION:Lubbock, Texas}.",
    "Her {AGE:92}nd birthday party ended when her son threw a chair.",
    "The client sent a photo of a handgun to {EMAIL:tyler.b@example.org}.",
    "The client's brother, {NAME:Oskar Lindqvist}, called the clinic twice.",
    "Plate number {PLATE:4GTR881} was seen circling the ex-wife's block.",
    "The client signed the consent on {DATE:1/5/2025} and left before the assessment ended.",
    "{NAME:Hector} has told his therapist three times that he plans to hurt the foreman.",
    "He named his target as {NAME:Mr. Whitlock}, the vice principal.",
    "Her phone number is {PHONE:206.555.0104} and she prefers texts.",
    "The client said his neighbor, {NAME:Gloria}, would 'learn what fear is'.",
    "The group home is at {ADDRESS:55 Sycamore Way}, near the high school.",
    "{NAME:Tomasz Nowak} was the coworker the client named in session.",
    "He first voiced the threat on {DATE:Feb. 21} while his wife was in the waiting room.",
    "The client lives in {LOCATION:Columbus, OH} {ZIP:43215} with his two children.",
    "Insurance member ID {ID_NUMBER:XGH448812907} is on the claim.",
    "The client's former teacher, {NAME:Mrs. Castellanos}, was the person he mentioned.",
    "A man calling himself {NAME:Rick Dunmore} phoned to warn that the client had a gun.",
    "The client described waiting in the parking garage at {ADDRESS:240 Commerce Blvd}.",
    "He was discharged on {DATE:July 4th} and threatened his father that evening.",
    "She lives with her {AGE:90-year-old} grandmother and an aunt.",
    "The program director can be reached at {PHONE:+1 617 555 0121}.",
    "The client's girlfriend, {NAME:Tamsin}, reported that he punched a hole in the wall.",
    "The evaluation was scheduled for {DATE:2024-03-18} at the county clinic.",
]

# Passages with no identifiers but with the wording that trips naive detectors.
CLEAN = [
    "Client A reported that her ex-husband threatened to kill her if she left.",
    "Ms. K. is a 34-year-old teacher who came to therapy after a divorce.",
    "Mr. K told the therapist on Thursday that he had been drinking more.",
    "The client said [NAME] would pay, then laughed and said he was joking.",
    "The client's mother called the clinic on Monday to report a threat.",
    "J.R. is a 17-year-old student referred by the school counselor.",
    "May the therapist disclose this without the client's consent?",
    "The client may be at risk of harming his supervisor.",
    "In May the client began to miss sessions.",
    "Grace under pressure is not something the client feels he has.",
    "The client said he has no hope that things will change.",
    "He will see the psychiatrist next week for a medication review.",
    "Sertraline 100 mg was started in 2019, and his PHQ-9 score is now 14.",
    "The client, 42, has a history of two arrests for assault in 2015 and 2018.",
    "Last spring, the client's brother moved back into the family home.",
    "Two weeks ago the client told his therapist that he bought a gun.",
    "The therapist met the client on a Tuesday afternoon in the outpatient clinic.",
    "His GAF score was 45 and his BDI-II score was 31 at intake.",
    "The client is an 88-year-old veteran who threatened a nurse at the VA clinic.",
    "The supervisor advised the intern to consult the Tarasoff standard.",
    "Patient B denied any intent to harm anyone, including his ex-wife.",
    "The Department of Social Services was notified on Friday.",
    "Under Tarasoff v. Regents of the University of California, the duty is to protect.",
    "The client has Major Depressive Disorder and Generalized Anxiety Disorder.",
    "Mark the date on the calendar, the client said, because that is when it ends.",
    "She said she would rather die than go back to him, and then asked for water.",
    "He takes lithium 900 mg daily and quetiapine 50 mg at bedtime.",
    "The client's father, a retired police officer, keeps a firearm in the house.",
    "Faith has always mattered to the client, who attends church every Sunday.",
    "Rose-colored glasses, the client said, are what his wife wears about him.",
    "June is the month the client's lease ends, and he fears being homeless.",
    "The nurse practitioner reviewed the safety plan with the client.",
    "Client C, a 25-year-old graduate student, reported intrusive thoughts.",
    "The client told Dr. X that the threat was serious.",
    "The clinician documented the Columbia Suicide Severity Rating Scale results.",
    "The client's ex-girlfriend works at a coffee shop downtown.",
    "He said he might 'do something' to his boss, but would not say what.",
    "The therapist called the police and warned the intended victim the same day.",
    "Will the therapist breach confidentiality if she calls the victim?",
    "The client will not say whether he still has the knife.",
    "Bill, the client said, was the only thing he worried about: the rent bill.",
    "The client's stepmother reported that he had been violent in 2020.",
    "At age 65 the client retired and has since become isolated and angry.",
    "He scored 28 on the PCL-5 and 12 on the GAD-7.",
    "The client arrives every Wednesday at 3 p.m. and leaves at 3:50.",
    "In Session 4 the client first mentioned the neighbor's dog.",
    "The therapist consulted the ACA Code of Ethics and the APA Ethics Code.",
    "The school resource officer spoke with the student's parents.",
    "Person A threatened Person B during a dispute over custody.",
    "The client's aunt and uncle raised him after his parents divorced.",
    "He has been sober for 18 months and attends AA meetings.",
    "The intern, who is in her second year, asked her supervisor for guidance.",
    "The client said, 'Summer is when everything went wrong for me.'",
    "Hope, for this client, comes from his relationship with his daughter.",
    "The client's ex-wife obtained a restraining order in 2021.",
    "The client was hospitalized for 72 hours under an emergency hold.",
    "The client, a veteran in his 40s, lives alone with his dog.",
    "The Board of Behavioral Sciences requires documentation of the warning.",
    "Dr. [NAME] reviewed the case with the ethics committee.",
    "He told the therapist he would 'take care of' the foreman on Monday morning.",
    "The client's adolescent son is in 10th grade and plays football.",
    "She rated her anger as 9 out of 10 when describing her sister-in-law.",
    "The client is prescribed 20 mg of fluoxetine and 1 mg of lorazepam as needed.",
    "Between 2 and 3 a.m. the client often wakes and paces the apartment.",
    "The threat was reported by the client's best friend, who was worried.",
    "Teacher X overheard Student Y say he would bring a gun to school.",
    "The client said the coworker was 'dead to him', which he explained was a figure of speech.",
    "The client, now 59, served two years in prison for aggravated assault.",
    "The therapist's Christmas vacation delayed the follow-up by a week.",
    "An Easter visit with his in-laws ended in a shouting match.",
    "The client speaks Spanish at home and English at work.",
    "He is a Black man in his thirties who works as an electrician.",
    "The client reports taking 3 to 4 drinks a night, up from 1 or 2 last year.",
    "The California Supreme Court decided Tarasoff in 1976.",
    "Her boyfriend, Mr. M., works nights as a security guard.",
    "The client's former partner, P.T., moved out in the fall.",
    "The client has a 9 mm handgun and a 12-gauge shotgun at home.",
    "Room 204 is where the group meets on Wednesdays.",
    "The client called the crisis line at 988 after the argument.",
    "The clinic's Risk Assessment Protocol requires a second opinion.",
]


# A third batch, written after the recognizers were tuned and run once on ``heldout``, in a
# different voice and with forms not seen before; scored as its own split, ``fresh``.
FRESH_PII = [
    "{NAME:Jessica}, a 16-year-old sophomore, told the counselor she wanted her stepdad dead.",
    "{NAME:Mr. Thompson}'s wife called to say he had taken the pistol from the safe.",
    "The client's ex, {NAME:Danielle Royce}, lives two doors down from his mother.",
    "{NAME:Dr. Meera Nair} (supervising psychiatrist) signed the hold on {DATE:Tuesday, March 5}.",
    "Intake: {NAME:Luis Ortega}, DOB {DATE:11-02-1990}, referred by his PCP.",
    "He left a voicemail for {NAME:Coach Daniels} saying the team would regret cutting him.",
    "Her sister {NAME:Beatriz} drove her to the appointment and waited outside.",
    "The letter was addressed to {ADDRESS:6610 Ridgeview Drive}, {LOCATION:Waco, TX}.",
    "Contact: {EMAIL:p.hollis@example.com}, {PHONE:(702) 555-0158}.",
    "He was first seen at the clinic on {DATE:January 8th, 2024}.",
    "The client is {AGE:ninety-one years old} and lives in assisted living.",
    "{NAME:Anthony} told the group that {NAME:Mrs. Pruitt} 'deserves what's coming'.",
    "His foreman, {NAME:Dale Sorensen}, filed a police report after the threat.",
    "The patient's chart number is {ID_NUMBER:CH-7781204}.",
    "She posted his address, {ADDRESS:12 Maple Court}, in a public group.",
    "Police traced the truck, tag {PLATE:LMV 3920}, to his cousin.",
    "{NAME:Nadia Haddad}, the client's classmate, reported the messages to the dean.",
    "He grew up in {LOCATION:Chicago} and moved here after the divorce.",
    "The client's wife {NAME:Colleen} has asked for couples sessions.",
    "On {DATE:8/30/2023} the client threatened his landlord with a bat.",
    "Refer questions to {NAME:Ms. Yolanda Price} at {PHONE:555-0127}.",
    "The client said {NAME:Jerome} has been 'asking for it' since the layoffs.",
    "He listed {URL:http://example.org/profile/jd88} as his business page.",
    "Her ZIP code is {ZIP:97205} and she rents a studio.",
    "The threat was directed at {NAME:Pastor Greene} after Sunday service.",
    "The client's neighbor, {NAME:Mr. Oyelaran}, installed cameras after the incident.",
    "{NAME:Keisha Grant} reported that her brother said he would shoot her boyfriend.",
    "SSN on file: {SSN:000-55-1234}.",
    "The discharge summary dated {DATE:April 2nd} lists no firearms in the home.",
    "He texted from {PHONE:602-555-0133} at 2 a.m. saying he was outside her building.",
    "The client and his girlfriend, {NAME:Amber}, argued about the custody schedule.",
    "The assault took place near {ADDRESS:3300 S. Grand Avenue}.",
    "{NAME:Victor Salas} is the manager the client blames for his firing.",
    "The client, who turned {AGE:95} in the spring, threatened the night nurse.",
    "Billing account {ID_NUMBER:ACCT-55219} was closed last month.",
]
FRESH_CLEAN = [
    "Client E, a 29-year-old mechanic, says his brother-in-law 'has it coming'.",
    "The therapist (Dr. Y) asked whether the client still had the rifle.",
    "Mother and stepfather both attended the family session on Saturday.",
    "He was prescribed 150 mg of bupropion XL in March.",
    "The vignette is set in a rural county in Montana.",
    "Ms. R. reports that her son punched a wall last fall.",
    "His AUDIT score was 19, suggesting hazardous drinking.",
    "The client, in his late 70s, lives with his adult daughter.",
    "On the third visit, the client brought a list of grievances against his boss.",
    "The teen's Instagram posts mentioned bringing a gun to school.",
    "Will he act on it? The team could not agree.",
    "The client said he would 'teach her a lesson' before Memorial Day.",
    "The duty to warn was codified in California after Tarasoff.",
    "She took 10 mg of escitalopram and 0.5 mg of clonazepam.",
    "The client's court date was moved to next month.",
    "Dialectical Behavior Therapy was recommended by the consulting psychologist.",
    "The client joined the Navy at 18 and was discharged at 22.",
    "Grace, the client said, was something his father never showed him.",
    "A man in the waiting room said someone should 'take care of' the receptionist.",
    "The client's grandmother raised him in a small town in the South.",
    "The client reported a 2-year history of panic attacks.",
    "Page 3 of the intake form was left blank.",
    "The client said Friday night was when he planned to confront his ex-boyfriend.",
    "Motivational Interviewing techniques were used in sessions 2 through 5.",
    "The Safety Planning Intervention was reviewed with the client.",
    "Patient X's father is a veteran who keeps a revolver in his nightstand.",
    "In April the school counselor first noticed the drawings.",
    "The therapist documented the call at 4:15 p.m. and notified her supervisor.",
    "The client works the night shift at a warehouse and sleeps days.",
    "Last Thanksgiving, the client's uncle threatened to shoot the family dog.",
    "She is 62, recently widowed, and angry at her late husband's business partner.",
    "Her HAM-D score dropped from 24 to 11 over eight weeks.",
    "The client described the argument as '10 out of 10' intense.",
    "An Amber Alert was issued, the client said, though he could not recall when.",
    "The client joked that his mother-in-law was 'the devil', then apologized.",
]


def parse(marked: str) -> tuple[str, list[dict[str, object]]]:
    """Strip ``{ENTITY:text}`` mark-up; return the plain text and its gold spans."""
    parts: list[str] = []
    entities: list[dict[str, object]] = []
    pos = 0
    length = 0
    for match in MARK.finditer(marked):
        before = marked[pos : match.start()]
        parts.append(before)
        length += len(before)
        entity, span_text = match.group(1), match.group(2)
        if entity not in ENTITIES:
            raise ValueError(f"unknown entity {entity!r} in {marked!r}")
        entities.append({"entity": entity, "start": length, "end": length + len(span_text)})
        parts.append(span_text)
        length += len(span_text)
        pos = match.end()
    parts.append(marked[pos:])
    text = "".join(parts)
    if "{" in text or "}" in text:
        raise ValueError(f"unbalanced mark-up in {marked!r}")
    return text, entities


def build() -> list[dict[str, object]]:
    """All passages, with ids, gold spans and a seeded tuning/heldout split."""
    rng = random.Random(SEED)
    rows: list[dict[str, object]] = []
    for prefix, group in (("P", WITH_PII), ("C", CLEAN), ("FP", FRESH_PII), ("FC", FRESH_CLEAN)):
        order = list(range(len(group)))
        rng.shuffle(order)
        heldout = set(order[: round(0.4 * len(group))])
        for i, marked in enumerate(group):
            split = "fresh" if prefix.startswith("F") else None
            text, entities = parse(marked)
            for ent in entities:
                assert text[ent["start"] : ent["end"]] in marked  # type: ignore[index]
            rows.append(
                {
                    "id": f"{prefix}{i + 1:03d}",
                    "text": text,
                    "entities": entities,
                    "split": split or ("heldout" if i in heldout else "tuning"),
                    "source": SOURCE,
                }
            )
    return rows


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    n_pii = sum(1 for r in rows if r["entities"])
    print(f"wrote {len(rows)} passages ({n_pii} with identifiers) to {OUT}")


if __name__ == "__main__":
    main()
