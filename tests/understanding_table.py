"""The phrasing table of issue 10: English, simple German and mixed signals, typed like on a phone.

Shared by tests/test_understanding.py (which asserts the targets) and bench/understanding_table.py
(which prints per-slot precision and recall). Each row lists the slots it is about: a listed None
means "must stay empty"; `ask` names the two situations of an either/or question the row should
lead to (then `situation` must stay None). Missing a slot costs recall (the dialog just asks), a
wrong slot costs precision, and a wrong situation is never acceptable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from knowledge.understanding import Understanding
from knowledge.vocabulary import District, Goal, Sector, Situation

B, BE, AS, SC, AU, WI = (
    Situation.BETRIEB,
    Situation.BESCHAEFTIGT,
    Situation.ARBEITSUCHEND,
    Situation.SCHULE,
    Situation.AUSLAND,
    Situation.WIEDEREINSTIEG,
)
LG, WL, UE, DAN, OUT = (
    District.LUENEBURG,
    District.HARBURG,
    District.UELZEN,
    District.LUECHOW_DANNENBERG,
    District.AUSSERHALB,
)
HW, GE, LW, IN, HA, IT, LO, GA, OE = (
    Sector.HANDWERK,
    Sector.GESUNDHEIT,
    Sector.LANDWIRTSCHAFT,
    Sector.INDUSTRIE,
    Sector.HANDEL,
    Sector.IT,
    Sector.LOGISTIK,
    Sector.GASTRONOMIE,
    Sector.OEFFENTLICH,
)
AUSB, STUD, AUF, WB, UMS, ANE, FOE, QUA, GEW, BER = (
    Goal.AUSBILDUNG,
    Goal.STUDIUM,
    Goal.AUFSTIEG,
    Goal.WEITERBILDUNG,
    Goal.UMSCHULUNG,
    Goal.ANERKENNUNG,
    Goal.FOERDERUNG,
    Goal.QUALIFIZIEREN,
    Goal.GEWINNEN,
    Goal.BERATUNG,
)

Row = tuple[str, dict[str, Any]]

ENGLISH: list[Row] = [
    (
        "i am a nurse from the philippines living in buchholz my degree is not recognised yet",
        dict(situation=AU, district=WL, sector=GE, goal=ANE),
    ),
    (
        "I am a nurse from the Philippines living in Buchholz, my degree is not recognised yet",
        dict(situation=AU, district=WL, sector=GE, goal=ANE),
    ),
    ("im a electrician from syria and live in lüneburg", dict(situation=AU, district=LG, sector=HW)),
    ("looking for a job in uelzen", dict(situation=AS, district=UE)),
    ("i lost my job and live in winsen", dict(situation=AS, district=WL)),
    ("unemployed truck driver from dannenberg", dict(situation=AS, district=DAN, sector=LO)),
    ("i want to do an apprenticeship as a carpenter", dict(goal=AUSB, sector=HW)),
    (
        "we are a small bakery in bad bevensen and need apprentices",
        dict(situation=B, district=UE, sector=HW, goal=GEW),
    ),
    ("our company is looking for skilled workers", dict(situation=B, goal=GEW)),
    ("how can i get my degree recognized", dict(situation=AU, goal=ANE)),
    ("my diploma from nigeria is not recognised", dict(situation=AU, goal=ANE)),
    (
        "i work as a cook in a hotel in lüneburg and want further training",
        dict(situation=BE, district=LG, sector=GA, goal=WB),
    ),
    (
        "i am employed as a software developer and want to become team leader",
        dict(situation=BE, sector=IT, goal=AUF),
    ),
    ("i finished school and want to study computer science", dict(situation=SC, goal=STUD, sector=IT)),
    ("after maternity leave i want to go back to work", dict(situation=WI)),
    ("housewife for ten years now want to work again", dict(situation=WI)),
    ("i want to retrain as a nurse", dict(goal=UMS, sector=GE)),
    ("who pays for my master craftsman course", dict(goal=AUF)),
    ("i live in hamburg", dict(district=OUT)),
    ("i am from outside the region", dict(district=OUT)),
    ("im a refugee from afghanistan and want to learn german", dict(situation=AU)),
    ("i need a german course in uelzen", dict(situation=AU, district=UE)),
    ("i am a student at leuphana", dict(situation=SC, goal=STUD)),
    ("looking for an apprenticeship in seevetal", dict(situation=SC, district=WL, goal=AUSB)),
    ("i run a care service in winsen and need nurses", dict(situation=B, district=WL, sector=GE)),
    ("self employed hairdresser in tostedt", dict(situation=B, district=WL, sector=HW)),
    (
        "i am an engineer from india my qualification is not recognized",
        dict(situation=AU, sector=IN, goal=ANE),
    ),
    ("i have a bachelor in mechanical engineering from pakistan", dict(situation=AU, sector=IN)),
    ("i dont have a job", dict(situation=AS)),
    ("i am not unemployed i have a job", dict(situation=BE)),
    ("no longer unemployed", dict(situation=None)),
    ("i have no qualification and want to get one", dict(goal=UMS)),
    ("unemployed", dict(situation=AS)),
    ("employer", dict(situation=B)),
    ("company", dict(situation=B)),
    ("nursing", dict(sector=GE)),
    ("logistics", dict(sector=LO)),
    ("retail", dict(sector=HA)),
    ("hospitality", dict(sector=GA)),
    ("agriculture", dict(sector=LW)),
    ("public service", dict(sector=OE)),
    ("i dont know", dict(sector=Sector.UNBEKANNT)),
    ("no idea", dict(sector=Sector.UNBEKANNT)),
    ("apprenticeship", dict(goal=AUSB)),
    ("further training", dict(goal=WB)),
    ("retraining", dict(goal=UMS)),
    ("recognition", dict(goal=ANE, situation=AU)),
    ("funding", dict(goal=FOE)),
    ("university", dict(goal=STUD)),
    ("i want personal advice", dict(goal=BER)),
    ("lüneburg", dict(district=LG)),
    ("21244", dict(district=WL)),
    ("near uelzen", dict(district=UE)),
    ("i live in lüchow", dict(district=DAN)),
    ("im from winsen", dict(district=WL)),
    ("i live in bremen", dict(district=OUT)),
    ("elsewhere", dict(district=OUT)),
    ("i am a electrican looking for work in uelzen", dict(situation=AS, district=UE, sector=HW)),
    ("im unemploid and want retraining", dict(situation=AS, goal=UMS)),
    ("i want to do a aprenticeship in it", dict(goal=AUSB, sector=IT)),
    ("is there fundng for my furhter training", dict(goal=WB)),
    ("my degree needs recognitin", dict(goal=ANE, situation=AU)),
    ("i am a nurce", dict(sector=GE)),
    ("i work in a warehouse in seevetal", dict(situation=BE, sector=LO, district=WL)),
    ("i work part time in a supermarket", dict(situation=BE, sector=HA)),
    ("im working as a waiter and want to change career", dict(situation=BE, sector=GA, goal=UMS)),
    ("i am a teacher from ukraine", dict(situation=AU)),
    ("doctor from syria need approbation", dict(situation=AU, sector=GE, goal=ANE)),
    ("i came to germany last year and i am a mechanic", dict(situation=AU, sector=HW)),
    ("i studied nursing in kenya", dict(situation=AU, sector=GE)),
    ("we want to train our staff", dict(situation=B, goal=QUA)),
    (
        "we are a logistics company in winsen and want to upskill our employees",
        dict(situation=B, district=WL, sector=LO, goal=QUA),
    ),
    (
        "i own a restaurant in hitzacker and we are hiring",
        dict(situation=B, district=DAN, sector=GA, goal=GEW),
    ),
    ("how do we find apprentices", dict(situation=B, goal=GEW)),
    ("i am a pupil and want to study after school", dict(situation=SC, goal=STUD)),
    ("still at school in adendorf", dict(situation=SC, district=LG)),
    ("i want to go back to work after parental leave", dict(situation=WI)),
    ("after a long career break i want to work again as an office assistant", dict(situation=WI, sector=HA)),
    ("stay at home mum looking for a part time job", dict(situation=WI)),
    ("i am a farmer in ebstorf", dict(sector=LW, district=UE)),
    ("i want to become a police officer", dict(sector=OE)),
    ("i am a programmer and want to do my master", dict(sector=IT, goal=STUD)),
    ("i am a bricklayer and want to become a master craftsman", dict(situation=BE, sector=HW, goal=AUF)),
    ("who can advise me", dict(goal=BER)),
    ("is there money for courses", dict(goal=WB)),
    ("i live in buchholz and work in hamburg", dict(district=WL)),
    ("i moved from berlin to lüneburg", dict(district=LG)),
    ("looking for work", dict(situation=AS)),
    ("job seeker from bleckede", dict(situation=AS, district=LG)),
    ("got fired last week", dict(situation=AS)),
    ("i am a trainee in a bank", dict(situation=SC, sector=HA)),
    ("i am a apprentice in a garage", dict(situation=SC)),
    (
        "i am a caregiver and want recognition of my diploma from the philippines",
        dict(situation=AU, sector=GE, goal=ANE),
    ),
    ("i dont speak much german i am engineer from iran", dict(situation=AU, sector=IN)),
    ("hi im maria from brazil i am a dentist and want to work in germany", dict(situation=AU, sector=GE)),
    ("i worked as a accountant in lebanon now i live in uelzen", dict(situation=AU, district=UE, sector=HA)),
    ("my husband and me came from ukraine he is driver i am teacher", dict(situation=AU)),
    ("can you help me find a job as forklift driver in winsen", dict(situation=AS, district=WL, sector=LO)),
    ("i want become nurse", dict(sector=GE, situation=None)),
    ("im 17 and want to do apprenticeship as mechanic in lüneburg", dict(district=LG, sector=HW, goal=AUSB)),
    (
        "we have a small farm near dannenberg and want to hire a apprentice",
        dict(situation=B, district=DAN, sector=LW, goal=GEW),
    ),
    ("what courses are there for welders", dict(sector=HW, goal=WB)),
    ("i need money for my training", dict(goal=WB)),
    ("is there anything for people without german", dict(situation=AU, sector=None)),
    ("i have b1 german and a nursing diploma from india", dict(situation=AU, sector=GE)),
    ("i m a chef in a restaurant in lüneburg", dict(situation=BE, district=LG, sector=GA)),
    ("i am a chef", dict(situation=BE, sector=GA)),
    ("i work in elderly care and want to become a team leader", dict(situation=BE, sector=GE, goal=AUF)),
    ("after 5 years at home with kids i want to start working again", dict(situation=WI)),
]

SIMPLE_GERMAN: list[Row] = [
    (
        "ich komme aus syrien ich bin elektriker ich habe zeugnis von schule in syrien",
        dict(situation=AU, sector=HW),
    ),
    (
        "Ich komme aus Syrien. Ich bin Elektriker. Ich habe Zeugnis von Schule in Syrien.",
        dict(situation=AU, sector=HW),
    ),
    ("ich bin elektriker aus syrien", dict(situation=AU, sector=HW)),
    ("ich elektriker aus afghanistan wohne in uelzen", dict(situation=AU, sector=HW, district=UE)),
    ("ich habe zeugnis aus ukraine", dict(situation=AU)),
    ("ich habe diplom von universität in iran", dict(situation=AU)),
    ("ich krankenschwester aus philippinen", dict(situation=AU, sector=GE)),
    ("ich suche arbeit in lüneburg", dict(situation=AS, district=LG)),
    ("ich brauche arbeit", dict(situation=AS)),
    ("ich habe keine arbeit", dict(situation=AS)),
    ("ich will arbeiten als koch", dict(situation=AS, sector=GA)),
    ("ich möchte ausbildung machen als friseur", dict(goal=AUSB, sector=HW)),
    ("ich will ausbildung pflege", dict(goal=AUSB, sector=GE)),
    ("ich bin neu in deutschland", dict(situation=AU)),
    ("ich lerne deutsch und suche arbeit", dict(ask=(AU, AS))),
    ("ich mache deutschkurs b1 in winsen", dict(situation=AU, district=WL)),
    ("mein abschluss nicht anerkannt", dict(situation=AU, goal=ANE)),
    ("mein diplom ist nicht anerkannt", dict(situation=AU, goal=ANE)),
    ("anerkenung von zeugnis", dict(situation=AU, goal=ANE)),
    ("ich wohne winsen", dict(district=WL)),
    ("wohne in uelzen", dict(district=UE)),
    ("ich lkw fahrer", dict(sector=LO)),
    ("ich bin schweißer aus polen", dict(situation=AU, sector=HW)),
    ("ich habe in rumänien als krankenpfleger gearbeitet", dict(situation=AU, sector=GE)),
    ("ich war ingenieur in syrien", dict(situation=AU, sector=IN)),
    ("ich komme aus eritrea und will ausbildung", dict(situation=AU, goal=AUSB)),
    ("ich habe abitur aus dem iran und will studieren", dict(situation=AU, goal=STUD)),
    ("ich habe keine ausbildung", dict(goal=UMS)),
    ("ich nicht arbeit seit 2 jahre", dict(situation=AS)),
    ("arbeit suchen in dannenberg", dict(situation=AS, district=DAN)),
    ("bin arbeitslos", dict(situation=AS)),
    ("ich arbeitslos in lüchow", dict(situation=AS, district=DAN)),
    ("ich habe kinder und will wieder arbeiten", dict(situation=WI)),
    ("nach kinder wieder arbeiten", dict(situation=WI)),
    ("ich will umschulung", dict(goal=UMS)),
    ("ich will weiterbildung machen", dict(goal=WB)),
    ("wer bezahlt kurs", dict(goal=WB)),
    ("ich brauche beratung", dict(goal=BER)),
    ("ich will studieren", dict(goal=STUD)),
    (
        "ich bin altenpfleger aus der türkei mein zeugnis nicht anerkannt",
        dict(situation=AU, sector=GE, goal=ANE),
    ),
    ("ich bin fahrer aus polen suche arbeit", dict(sector=LO)),
    ("ich arbeite in lager in seevetal", dict(situation=BE, sector=LO, district=WL)),
    ("ich schüler in buchholz", dict(situation=SC, district=WL)),
    ("ich gehe noch zur schule und suche praktikum", dict(situation=SC)),
    ("ich friseurin aus syrien wohne bad bevensen", dict(situation=AU, sector=HW, district=UE)),
    ("ich bin krankenschwester aus indien und wohne in tostedt", dict(situation=AU, sector=GE, district=WL)),
    ("ich habe beruf in polen gelernt maurer", dict(situation=AU, sector=HW)),
    ("bitte hilfe ich suche arbeit lager", dict(situation=AS, sector=LO)),
    ("ich will friseur werden in uelzen", dict(sector=HW, district=UE)),
    ("ich habe 3 kinder will wieder arbeiten teilzeit", dict(situation=WI)),
    ("ich bin seit 2 jahren ohne job", dict(situation=AS)),
    ("kein deutsch gut aber ingenieur", dict(situation=AU, sector=IN)),
]

MIXED: list[Row] = [
    # workplace vs ownership
    (
        "ich habe meine ausbildung abgeschlossen betrieb in 21629 will mich weiterbilden",
        dict(situation=BE, district=WL, goal=WB),
    ),
    (
        "Ausbildung abgeschlossen, Betrieb in 21629, will mich weiterbilden",
        dict(situation=BE, district=WL, goal=WB),
    ),
    ("mein betrieb bezahlt mir die weiterbildung", dict(situation=BE, goal=WB)),
    (
        "mein betrieb ist in winsen und ich will meinen meister machen",
        dict(situation=BE, district=WL, goal=AUF),
    ),
    ("ich arbeite im betrieb von meinem onkel in uelzen", dict(situation=BE, district=UE)),
    ("wir sind ein betrieb in uelzen und suchen azubis", dict(situation=B, district=UE, goal=GEW)),
    ("ich habe einen betrieb in lüneburg", dict(situation=B, district=LG)),
    ("ich habe eine firma und suche mitarbeiter", dict(situation=B, goal=GEW)),
    ("betrieb", dict(situation=B)),
    ("firma in buchholz", dict(district=WL, situation=None)),
    ("meine firma will dass ich eine fortbildung mache", dict(situation=BE, goal=WB)),
    ("ich bin chef von einem kleinen betrieb", dict(situation=B)),
    ("mein chef sagt ich soll mich weiterbilden", dict(situation=BE, goal=WB)),
    ("unser betrieb will azubis ausbilden", dict(situation=B, goal=GEW)),
    ("ich bin azubi im betrieb in tostedt", dict(situation=SC, district=WL)),
    ("i work at a company in winsen", dict(situation=BE, district=WL)),
    ("i own a company in winsen", dict(situation=B, district=WL)),
    ("wir sind ein betrieb in winsen", dict(situation=B, district=WL)),
    ("we are a company in winsen", dict(situation=B, district=WL)),
    ("my company pays for my training", dict(situation=BE)),
    ("our company wants to train apprentices", dict(situation=B, goal=GEW)),
    # foreign certificate vs school words
    ("ich habe schulabschluss aus syrien", dict(situation=AU)),
    ("abitur aus russland", dict(situation=AU)),
    ("ich habe in der ukraine studiert und will hier arbeiten", dict(situation=AU)),
    ("i went to school in ghana and have a diploma", dict(situation=AU)),
    ("my university degree is from egypt", dict(situation=AU)),
    ("ich gehe zur schule und komme aus syrien", dict(situation=SC)),
    ("ich bin schüler", dict(situation=SC)),
    ("ich bin in der schule", dict(situation=SC)),
    ("schule fertig was jetzt", dict(situation=SC)),
    # negations
    ("kein abitur", dict(situation=None)),
    ("ich habe kein abitur will aber studieren", dict(situation=None, goal=STUD)),
    ("nicht mehr arbeitslos", dict(situation=None)),
    ("ich bin nicht mehr arbeitslos sondern arbeite als koch", dict(situation=BE, sector=GA)),
    ("ohne ausbildung", dict(goal=UMS)),
    ("ich habe keine ausbildung und bin arbeitslos", dict(situation=AS, goal=UMS)),
    ("keine umschulung sondern weiterbildung", dict(goal=WB)),
    ("ich bin kein arbeitgeber", dict(situation=None)),
    ("ich will keine ausbildung sondern studieren", dict(goal=STUD)),
    ("ich bin nicht arbeitslos", dict(situation=None)),
    ("i am not a student", dict(situation=None)),
    ("i dont want an apprenticeship", dict(goal=None)),
    ("no apprenticeship i want to study", dict(goal=STUD)),
    ("without a degree", dict(goal=UMS)),
    ("i have no training", dict(goal=UMS)),
    ("not a employer", dict(situation=None)),
    ("no longer unemployed i work as nurse now", dict(situation=BE, sector=GE)),
    # arbeitslos vs arbeit
    ("arbeit", dict(situation=None)),
    ("ich habe arbeit aber will mehr lernen", dict(situation=BE)),
    ("ich suche eine neue arbeit", dict(situation=AS)),
    ("arbeitslos aber früher lkw fahrer", dict(situation=AS, sector=LO)),
    ("ich war lange arbeitslos und habe jetzt einen job", dict(situation=None)),
    # several situations at once
    ("nach der elternzeit arbeitslos", dict(ask=(WI, AS))),
    ("ich studiere und arbeite teilzeit", dict(ask=(SC, BE))),
    (
        "ich komme aus polen und arbeite als elektriker in lüneburg",
        dict(situation=BE, district=LG, sector=HW),
    ),
    ("ich bin lehrling und will später meinen meister", dict(situation=SC, goal=AUF)),
    ("ich bin chefin einer bäckerei und will mich selbst weiterbilden", dict(situation=B)),
    ("ich bin erzieherin, aus der ukraine, anerkennung", dict(situation=AU, sector=GE, goal=ANE)),
    (
        "moin bin dachdecker ausm kreis harburg will meister machen",
        dict(situation=BE, district=WL, sector=HW, goal=AUF),
    ),
    ("moin ich schnack mal kurz bin tischler in lüneborg", dict(situation=BE, sector=HW, district=LG)),
    ("tach ich bin arbeitslos un wohn in ülzen", dict(situation=AS, district=UE)),
    ("hab meine lehre fertig und will jetzt weiter", dict(situation=BE)),
    ("ich bin gelernter koch aus syrien", dict(situation=AU, sector=GA)),
    ("ich hab ne ausbildung als maurer und bin jetzt arbeitslos", dict(situation=AS, sector=HW)),
    ("wir ham nen kleinen hof in der göhrde und suchen leute", dict(situation=B, sector=LW, goal=GEW)),
    ("bin azubi will nach der ausbildung studieren", dict(situation=SC, goal=STUD)),
    ("ich habe firma in winsen wir brauchen azubis", dict(situation=B, district=WL, goal=GEW)),
    ("mein arbeitgeber zahlt nicht für kurs", dict(situation=BE)),
    ("unsere firma sucht fachkräfte aus dem ausland", dict(situation=B, goal=GEW)),
    ("ich habe kein job und keine ausbildung", dict(situation=AS)),
    ("ich bin kein schüler mehr", dict(situation=None)),
    ("my kids go to school here", dict(situation=None)),
    ("i can handle it", dict(sector=None)),
    ("is it possible to get funding", dict(sector=None, goal=FOE)),
    ("i am interested in it", dict(sector=None)),
    ("ich will in die IT", dict(sector=IT)),
    ("ich habe ausbildung in polen gemacht", dict(situation=AU)),
    ("i completed my apprenticeship in romania", dict(situation=AU)),
    ("ich arbeite nicht mehr als koch", dict(situation=AS, sector=GA)),
    ("ich will nicht mehr in der pflege arbeiten", dict(situation=None)),
]

# Written in one go after the rows above passed, and measured before any change to the lexicon
# or the rules (bench/README.md has that first measurement); a realistic check of what new
# phrasings meet. The generic gaps it showed were fixed afterwards; two misses remain on purpose.
HELD_OUT: list[Row] = [
    (
        "hello i am looking for a apprenticeship as a cook in uelzen",
        dict(situation=SC, district=UE, sector=GA, goal=AUSB),
    ),
    (
        "i am from eritrea and worked as a carpenter i live in dannenberg",
        dict(situation=AU, district=DAN, sector=HW),
    ),
    ("my wife is a doctor from iraq how can she work here", dict(situation=AU, sector=GE)),
    (
        "i have been unemployed for 2 years and want to retrain in logistics",
        dict(situation=AS, sector=LO, goal=UMS),
    ),
    (
        "i work in a bank in lüneburg and want to do a business administration degree",
        dict(situation=BE, district=LG, goal=STUD),
    ),
    ("we are a it company in adendorf and need developers", dict(situation=B, district=LG, sector=IT)),
    ("i am 45 and was at home with my kids for 10 years", dict(situation=WI)),
    (
        "need help with recognition of my nursing degree from the philippines",
        dict(situation=AU, sector=GE, goal=ANE),
    ),
    ("what kind of funding is there for a master craftsman", dict(goal=AUF)),
    (
        "i am a warehouse worker in winsen and want to become team leader",
        dict(situation=BE, district=WL, sector=LO, goal=AUF),
    ),
    ("im a student from india studying in lüneburg", dict(district=LG)),
    ("i am unemployed engineer from turkey", dict(sector=IN)),
    ("can my employer get money if i do further training", dict(situation=BE, goal=WB)),
    ("i want to start an apprenticeship after school", dict(goal=AUSB)),
    ("i am a bus driver and want to change to it", dict(situation=BE, sector=IT)),
    ("ich bin koch aus vietnam wohne in lüneburg", dict(situation=AU, sector=GA, district=LG)),
    ("ich habe keine arbeit und keine ausbildung wohne in uelzen", dict(situation=AS, district=UE)),
    ("ich möchte pflegehelfer werden", dict(sector=GE)),
    ("meine ausbildung aus kasachstan ist nicht anerkannt", dict(situation=AU, goal=ANE)),
    (
        "ich will meister machen bin tischler in buchholz",
        dict(situation=BE, district=WL, sector=HW, goal=AUF),
    ),
    ("ich bin seit 3 jahren in deutschland und war lehrerin in syrien", dict(situation=AU)),
    ("ich suche arbeit als verkäuferin in lüchow", dict(situation=AS, district=DAN, sector=HA)),
    ("ich habe 2 kinder und will wieder in pflege arbeiten", dict(situation=WI, sector=GE)),
    ("ich bin mit schule fertig und suche ausbildung", dict(situation=SC, goal=AUSB)),
    ("ich will deutsch lernen und dann arbeiten", dict(situation=AU)),
    ("kein job mehr seit corona", dict(situation=AS)),
    ("ich bin nicht selbstständig sondern angestellt", dict(situation=BE)),
    ("im betrieb wollen sie dass ich den meister mache", dict(situation=BE, goal=AUF)),
    ("betrieb in uelzen sucht azubis", dict(situation=B, district=UE, goal=GEW)),
    ("ich habe keinen schulabschluss", dict(situation=None)),
    ("ohne abi studieren geht das", dict(goal=STUD)),
    ("ich bin nicht mehr in elternzeit", dict(situation=None)),
    ("my company in seevetal wants me to do a course", dict(situation=BE, district=WL, goal=WB)),
    ("we own a small hotel in hitzacker and look for trainees", dict(situation=B, district=DAN, sector=GA)),
    ("i am not working at the moment", dict(situation=AS)),
    ("i have no german certificate but a diploma from ghana", dict(situation=AU)),
    ("mein chef will mich nicht weiterbilden", dict(situation=BE)),
    ("moin bin maler ausm wendland", dict(situation=BE, district=DAN, sector=HW)),
    ("hab abi und will studieren", dict(situation=SC, goal=STUD)),
    ("bin hausfrau will wieder arbeiten in winsen", dict(situation=WI, district=WL)),
    # a second batch, written and measured the same way (first sight: situation 0.944 / 0.895,
    # district, sector and goal 1.000 / 1.000; "ich habe arbeit verloren" read as employed)
    ("hello my name is ahmed i am from syria i was a pharmacist", dict(situation=AU, sector=GE)),
    ("looking for a job as a cleaner in lüneburg", dict(situation=AS, district=LG)),
    ("i am a single mother and want to work again after 6 years", dict(situation=WI)),
    ("we are a hotel in bad bevensen and need a cook", dict(situation=B, district=UE, sector=GA)),
    ("can i study in lüneburg without abitur", dict(goal=STUD, district=LG)),
    ("i have a master degree in computer science from nigeria", dict(situation=AU, sector=IT)),
    ("i got laid off from the factory in winsen", dict(situation=AS, district=WL, sector=IN)),
    ("im a carer in a nursing home and want to become a qualified nurse", dict(situation=BE, sector=GE)),
    ("how do i get my driving licence paid", dict(sector=LO)),
    ("i am in year 11 and dont know what to do after school", dict(situation=SC)),
    ("my employer wants me to do a forklift course", dict(situation=BE, sector=LO, goal=WB)),
    ("ich bin busfahrer aus der ukraine", dict(situation=AU, sector=LO)),
    ("ich suche ausbildung als tischler in hitzacker", dict(district=DAN, sector=HW, goal=AUSB)),
    ("ich habe arbeit verloren", dict(situation=AS)),
    ("mein zeugnis aus marokko", dict(situation=AU)),
    ("ich will in büro arbeiten ich bin aus afghanistan", dict(situation=AU, sector=HA)),
    ("ich bin zahnarzt aus syrien und brauche approbation", dict(situation=AU, sector=GE, goal=ANE)),
    ("wir haben eine arztpraxis in uelzen und suchen mfa", dict(situation=B, district=UE, sector=GE)),
    ("ich bin seit jahren zuhause mit kindern", dict(situation=WI)),
    ("ich bin nicht mehr schüler", dict(situation=None)),
    ("ich habe keinen job aber eine ausbildung als bäcker", dict(situation=AS, sector=HW)),
    ("i am not from here i live in stade", dict(district=OUT)),
    ("no i am not a company", dict(situation=None)),
    ("selbstständiger maler in bleckede sucht azubi", dict(situation=B, district=LG, sector=HW, goal=GEW)),
    ("i run a small bakery in tostedt", dict(situation=B, district=WL, sector=HW)),
]

CATEGORIES: dict[str, list[Row]] = {
    "english": ENGLISH,
    "simple_german": SIMPLE_GERMAN,
    "mixed": MIXED,
    "held_out": HELD_OUT,
}
SLOTS = ("situation", "district", "sector", "goal")


@dataclass
class SlotScore:
    """Counts over the rows that name a slot: filled right, filled wrong, left empty, kept empty."""

    right: int = 0
    wrong: int = 0
    missed: int = 0
    kept_empty: int = 0  # the row wants None and got None
    filled_when_empty: int = 0  # the row wants None and got a value

    @property
    def precision(self) -> float:
        filled = self.right + self.wrong + self.filled_when_empty
        return self.right / filled if filled else 1.0

    @property
    def recall(self) -> float:
        wanted = self.right + self.wrong + self.missed
        return self.right / wanted if wanted else 1.0


def expected_situation(expected: dict[str, Any]) -> tuple[bool, Situation | None]:
    """(listed, value) of a row's situation; an `ask` row wants an empty situation."""
    if "ask" in expected:
        return True, None
    return ("situation" in expected), expected.get("situation")


def score(
    rows: Iterable[Row], read: Callable[[str], Understanding]
) -> tuple[dict[str, SlotScore], list[str]]:
    """Per-slot scores over `rows`, and the rows that filled a wrong situation without asking."""
    scores = {slot: SlotScore() for slot in SLOTS}
    silent_wrong: list[str] = []
    for text, expected in rows:
        u = read(text)
        for slot in SLOTS:
            if slot == "situation":
                listed, want = expected_situation(expected)
            else:
                listed, want = slot in expected, expected.get(slot)
            if not listed:
                continue
            got = getattr(u, slot)
            s = scores[slot]
            if want is None:
                if got is None:
                    s.kept_empty += 1
                else:
                    s.filled_when_empty += 1
            elif got == want:
                s.right += 1
            elif got is None:
                s.missed += 1
            else:
                s.wrong += 1
            if slot == "situation" and got is not None and got != want:
                silent_wrong.append(f"{text!r}: situation {got} (wanted {want})")
    return scores, silent_wrong
