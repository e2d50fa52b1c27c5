"""Text ranges for the benchmark catalogue (benchmarks/query_data.py): lines read in the picture.

Per video: opening credits inside the OpeningCredits cue (a company presents, a title, the
main cast, "Directed by" and a name), a scrolling end roll inside the EndCredits cue (crew
roles and names, as headings or on one line), signs and captions through the programme (fixed
signs, street and shop names, notices, posters), lower thirds (a name line and a title line at
once) and, in news videos, ticker lines. Every word is drawn Zipf-like (weight 1/rank over
lists written here in rough order of frequency): a few thousand distinct words from first
names, surnames, places, crew roles and common sign, caption and news words. A video keeps
its own cast, signs and shops, so lines repeat within a video as they do on screen. Lines
are 1-8 words; signs and captions last as long as label runs (log-normal, median 3 s);
confidence 100 - 20·Beta(1, 5) (median ~97, ~3 % under 90, none under Rekognition's default
80).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

_FIRST = """
James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard
Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty
Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua
Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa Timothy Deborah Ronald
Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy
Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott Nicole
Brandon Helen Benjamin Samantha Samuel Katherine Gregory Christine Alexander Debra Frank Rachel
Patrick Carolyn Raymond Janet Jack Catherine Dennis Maria Jerry Heather Tyler Diane Aaron Ruth
Jose Julie Adam Olivia Nathan Joyce Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren
Kyle Christina Ethan Joan Walter Evelyn Noah Judith Jeremy Megan Christian Andrea Keith Cheryl
Roger Hannah Terry Jacqueline Gerald Martha Harold Gloria Sean Teresa Austin Ann Carl Sara
Arthur Madison Lawrence Frances Dylan Kathryn Jesse Janice Jordan Jean Bryan Abigail Billy
Alice Joe Judy Bruce Sophia Gabriel Grace Logan Denise Albert Amber Willie Doris Alan Marilyn
Juan Danielle Wayne Beverly Elijah Isabella Randy Theresa Roy Diana Vincent Natalie Ralph
Brittany Eugene Charlotte Russell Marie Bobby Kayla Mason Alexis Philip Lori Louis Oliver
Amelia Liam Mia Lucas Ava Hugo Chloe Leo Zoe Felix Ines Mateo Lucia Sofia Pablo Carmen Javier
Elena Luca Giulia Marco Chiara Lars Ingrid Sven Astrid Pierre Camille Claire Yuki Hana Kenji
Aiko Wei Mei Arjun Priya Rahul Ananya Omar Fatima Ahmed Layla Kwame Amara Chidi Ngozi Diego
Valentina Mateus Ana Tomasz Katarzyna Dmitri Olga Ivan Natasha Seamus Siobhan Aoife Niamh
Callum Isla Rhys Cerys Finn Freya Magnus Sigrid Matteo Francesca Jonas Greta Emil Clara Anton
Ida Jasper Ruby Theo Poppy Archie Maisie Reuben Imogen Idris Nia Tariq Zainab Kofi Abena
Hiroshi Keiko Min Jun Soo Hyun Ravi Deepa Sanjay Kavya Nikos Eleni Kemal Elif Jakub Zofia
"""
_LAST = """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips
Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers
Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson
Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders
Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler
Henderson Barnes Fisher Vasquez Simmons Romero Patterson Hamilton Graham Reynolds Griffin
Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray
Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas
Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva
Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone
Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver
Ryan Gardner Payne Grant Dunn Spencer Hawkins Arnold Pierce Hansen Peters Santos Hart Bradley
Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Ray Delgado Berry
Perkins Hoffman Johnston Matthews Richards Willis Carpenter Lawrence Guerrero Chapman Rios
Ortega Watkins Greene Wheeler Harper Burke Larson Santiago Morrison Franklin Carlson Carr Lawson
Jacobs OBrien Lynch Singh Vega Bishop Montgomery Oliver Jensen Harvey Williamson Gilbert Dean
Howell Li Wong Reid Hanson McCoy Garrett Burton Fuller Wang Weber Welch Rojas Lucas Marquez
Fields Park Yang Little Banks Padilla Day Walsh Bowman Schultz Luna Fowler Davidson Acosta
Brewer May Holland Newman Pearson Curtis Douglas Schneider Barrett Navarro Keller Molina Stanley
Hopkins Barnett Bates Chambers Caldwell Beck Lambert Miranda Byrd Craig Lowe Frazier Powers
Neal Leonard Sutton Fleming Rhodes Shelton Schwartz Norris Jennings Watts Walters Cohen Moran
Parks Steele Vaughn Becker Holt Barker Hale Benson Haynes Horton Miles Lyons Pham Graves Bush
Thornton Wolfe Warner Mann Zimmerman Dawson Fletcher Page McCarthy Love Erickson Reeves Chang
Klein Baldwin Simon Hardy Higgins Cummings Chandler Sharp Barber Bowen Robbins Liu Ramsey
Francis Griffith Blair OConnor Cross Quinn Moss Swanson Chan Khan Fitzgerald Stevenson Manning
Gill Curry McLaughlin Doyle Newton Burgess Blake Goodman Webster Goodwin Fischer Huang Potter
Todd Wu Malone Cannon Sherman Hodges Zhang Wolf Saunders Rowe Gallagher Hammond Townsend Ingram
Clarke Barton Maxwell Waters Norman Parsons Glover Osborne Buchanan Casey Ball Lloyd Mueller
Hartman French Kramer Pope Norton Sparks Flynn Yates Hogan Marsh Owen Lang Drake Cain Shepherd
Ali Lamb Olsen Nash Wilkins Briggs Shah Roth Nicholson Holloway Flowers Short Weiss Underwood
Summers Houston Carson Clayton Whitaker Collier Carey Poole Larsen Davenport Copeland Cameron
"""
_PLACES = """
London; Paris; Berlin; Madrid; Rome; Lisbon; Dublin; Edinburgh; Manchester; Birmingham;
Glasgow; Liverpool; Leeds; Bristol; Cardiff; Belfast; Amsterdam; Brussels; Vienna; Prague;
Warsaw; Budapest; Athens; Stockholm; Oslo; Copenhagen; Helsinki; Zurich; Geneva; Munich;
Hamburg; Milan; Naples; Barcelona; Seville; Valencia; Porto; Lyon; Marseille; Nice; Bordeaux;
New York; Los Angeles; Chicago; Houston; Phoenix; Philadelphia; San Antonio; San Diego; Dallas;
Austin; Boston; Seattle; Denver; Atlanta; Miami; Detroit; Portland; Nashville; Toronto;
Montreal; Vancouver; Ottawa; Mexico City; Havana; Bogota; Lima; Santiago; Buenos Aires;
Sao Paulo; Rio; Cairo; Lagos; Nairobi; Accra; Johannesburg; Cape Town; Casablanca; Istanbul;
Ankara; Tehran; Dubai; Doha; Riyadh; Mumbai; Delhi; Bangalore; Chennai; Kolkata; Karachi;
Lahore; Dhaka; Bangkok; Hanoi; Singapore; Jakarta; Manila; Seoul; Busan; Tokyo; Osaka; Kyoto;
Beijing; Shanghai; Shenzhen; Hong Kong; Taipei; Sydney; Melbourne; Brisbane; Perth; Auckland;
Wellington; Reykjavik; Tallinn; Riga; Vilnius; Krakow; Gdansk; Bucharest; Sofia; Belgrade;
Zagreb; Ljubljana; Sarajevo; Tirana; Kyiv; Odesa; Tbilisi; Yerevan; Baku; Almaty; Tashkent;
Kathmandu; Colombo; Yangon; Phnom Penh; Kuala Lumpur; Addis Ababa; Dakar; Kampala; Kigali;
Lusaka; Harare; Luanda; Tunis; Algiers; Tripoli; Beirut; Amman; Baghdad; Muscat; Kuwait;
Montevideo; Asuncion; La Paz; Quito; Caracas; Panama; San Jose; Kingston; Nassau; Anchorage;
Honolulu; Las Vegas; Salt Lake City; Minneapolis; St Louis; Kansas City; New Orleans; Memphis
"""
# words of signs, notices, posters, captions and news, commonest first
_WORDS = """
the of and to in for on at a with by from no open exit parking street road sale off stop
entrance closed welcome hotel cafe bar police only private keep out danger caution please do
not enter push pull toilets information tickets platform way fire emergency door station bus
train taxi airport arrivals departures gate terminal floor level car park pay here free wifi
coffee tea food drinks restaurant menu today special offer new now all day night hours am pm
monday tuesday wednesday thursday friday saturday sunday weekend best price prices discount
save buy get one two three four five six seven eight nine ten first second third last next
left right north south east west centre center city town market square garden museum library
school college university hospital clinic pharmacy bank post office shop store supermarket
mall bakery books music cinema theatre gallery church hall house home apartments rooms
vacancy reception lift stairs main high old royal national public central international
grand little big great red blue green white black gold silver live news breaking update
weather forecast sport traffic report latest headlines coming up later tonight tomorrow
exclusive interview warning alert storm rain snow wind heat flood earthquake election vote
poll minister president government parliament council court officers arrested charged trial
verdict judge crash accident rescue health doctors nurses patients strike workers union jobs
economy markets shares stocks inflation rates interest oil gas energy power climate summit
talks deal agreement trade war peace army troops attack protest crowd rally students
teachers children families residents community mayor local world europe america asia africa
record win wins lost match final league cup goal goals score team coach players season
championship game games race points half time full live from studio exclusive show episode
series part chapter presents film production story true events based novel special thanks
memory love life time year years people man woman family friends water air land sea river
lake mountain beach island bridge tower castle palace cathedral temple stadium arena centre
hall tunnel highway avenue lane drive boulevard place crescent close court gardens terrace
row walk hill view heights valley wood woods farm field green park meadow springs falls
bay harbour harbor port dock pier quay beacon lighthouse coast cliff point cape bank ridge
rock stone iron steel glass paper wood oak elm pine cedar maple willow birch ash rose lily
ivy fox wolf bear eagle hawk raven swan lion tiger horse dog cat bird fish star sun moon
sky cloud light dark shadow night morning evening summer winter spring autumn cold hot warm
fresh clean quiet loud fast slow long short small large full empty safe secure limited
official approved certified licensed registered authorised authorized staff members guests
visitors customers patients residents pupils passengers drivers pedestrians cyclists dogs
children only allowed prohibited forbidden strictly reserved required must should may
cctv camera operation area zone site works ahead diversion closure closed lane slow down
speed limit miles km mph hour minutes wait queue line here there this that these those
your our their its his her my you we they he she it is are was were be been being have has
had will would can could shall not never always every each any some more most less least
very just also still even only again back down over under through across between around
against before after since until during while about above below behind beside near far
away home work life world business company group limited ltd inc corporation holdings
services solutions systems technologies industries international partners associates
brothers sons daughters family trust foundation society association club institute academy
agency department ministry bureau authority commission committee board office centre unit
division section branch headquarters embassy consulate library archive records register
tax customs immigration border control security check point passport visa ticket office
booking hall waiting room lost property left luggage baggage claim check in departures
arrivals transfers connections domestic flights international gates shops duty free
restaurants bars toilets baby change first aid prayer room smoking area taxis buses trains
metro underground subway tram coach ferry car hire rental return drop pick up short stay
long stay multi storey charges apply pay display valid permit holders disabled loading
bay bays deliveries only goods service entrance staff entrance visitors entrance main
reception enquiries appointments pharmacy dispensary outpatients maternity children ward
accident emergency department radiology x ray blood tests cafe shop chapel garden car park
ambulance station fire engine police cars only tow away zone clamping enforcement fines
penalty notice cameras operate hours control recording images purposes crime prevention
public safety contact details available request information leaflet website email phone call
text free number freephone helpline advice support help desk point meeting assembly point
evacuation route fire alarm extinguisher blanket hose reel sprinkler system alarm raised
test weekly tested monthly inspected annually certificate date expiry issued valid until
tonight only limited edition collection spring summer autumn winter new arrivals clearance
final reductions half price everything under pounds dollars euros each per person adults
seniors concessions members tickets available door box office sold out matinee evening
performance premiere festival concert exhibition fair carnival parade marathon charity
appeal donations welcome volunteers needed join us meeting tonight vote yes no campaign
march rally demonstration petition sign here community garden allotments recycling centre
waste collection bins bottles cans plastic paper cardboard glass batteries electrical items
garden waste bulky items skip hire scaffolding builders merchants timber plumbing heating
electrical supplies paint decorating tiles flooring kitchens bathrooms bedrooms windows doors
roofing fencing landscaping cleaning removals storage self security locksmith keys cut shoe
repairs dry cleaning alterations printing copying photo booth passport photos mobile phone
unlocking computer repairs gaming consoles vinyl cassettes comics vintage retro second hand
charity shop thrift donations accepted pawnbroker gold buyers cash converters cheques cashed
money transfer currency exchange bureau de change travel agent holidays flights cruises
insurance mortgages loans savings current accounts branch closing relocating moved
"""
_SIGNS = """
NO PARKING; EXIT; STOP; OPEN; CLOSED; ONE WAY; NO ENTRY; FIRE EXIT; PUSH; PULL; KEEP OUT;
POLICE; TAXI; BUS STOP; TOILETS; PRIVATE; DANGER; SALE; WAY OUT; NO SMOKING; STAFF ONLY;
EMERGENCY EXIT; CAUTION WET FLOOR; GIVE WAY; SLOW; TICKETS; INFORMATION; ARRIVALS;
DEPARTURES; PAY HERE; ENTRANCE; WELCOME; HOTEL; PHARMACY; HOSPITAL; SCHOOL; YIELD; DO NOT
ENTER; AUTHORISED PERSONNEL ONLY; NO VACANCY; VACANCY; CASH ONLY; FREE WIFI; HOT FOOD;
LIVE MUSIC TONIGHT; HAPPY HOUR; NOW OPEN; CLOSING DOWN SALE; EVERYTHING MUST GO; FOR RENT;
FOR SALE; TO LET; SOLD; BEWARE OF THE DOG; NO BALL GAMES; PRIVATE PROPERTY; CCTV IN OPERATION;
MIND THE GAP; PLEASE WAIT HERE; QUEUE HERE; ORDER HERE; COLLECT HERE; TOW AWAY ZONE;
ROAD CLOSED; DIVERSION; ROAD WORKS AHEAD; REDUCE SPEED NOW; LOADING BAY; DISABLED PARKING;
PERMIT HOLDERS ONLY; NO STOPPING; NO U TURN; NO LEFT TURN; NO RIGHT TURN; SCHOOL CROSSING;
HIGH VOLTAGE; ASSEMBLY POINT; FIRST AID; LOST PROPERTY; LEFT LUGGAGE; BAGGAGE CLAIM;
CHECK IN; PASSPORT CONTROL; CUSTOMS; DUTY FREE; GATES 1 12; PLATFORM 1; PLATFORM 2;
PLATFORM 3; PLATFORM 4; PLATFORM 9; TERMINAL 2; TERMINAL 5; LEVEL 1; LEVEL 2; LEVEL 3; BAR;
CAFE; RESTAURANT; TAKE AWAY; OPEN 24 HOURS; OPEN 7 DAYS; 50% OFF; BUY ONE GET ONE FREE;
SPEED LIMIT 30; SPEED LIMIT 50; ROUTE 66; MOTEL; GAS; DINER; BANK; ATM; POST OFFICE;
POLICE LINE DO NOT CROSS; CRIME SCENE; EVACUATION ROUTE; FIRE ASSEMBLY POINT; KEEP CLEAR;
KEEP LEFT; KEEP RIGHT; DEAD END; NO THROUGH ROAD; PEDESTRIANS; CYCLISTS DISMOUNT; BUSES ONLY
"""
_ROLES = """
Director; Producer; Executive Producer; Co-Producer; Associate Producer; Line Producer; Writer;
Screenplay; Story; Director of Photography; Cinematographer; Camera Operator;
First Assistant Camera; Second Assistant Camera; Steadicam Operator; Editor; Assistant Editor;
Colorist; Production Designer; Art Director; Set Decorator; Props Master; Costume Designer;
Wardrobe Supervisor; Makeup Artist; Hair Stylist; Key Makeup; Casting Director;
Casting Associate; Composer; Music Supervisor; Music Editor; Sound Designer; Sound Mixer;
Re-recording Mixer; Boom Operator; Dialogue Editor; Foley Artist; Gaffer; Best Boy Electric;
Electrician; Key Grip; Best Boy Grip; Dolly Grip; Grip; Location Manager; Location Scout;
Unit Production Manager; Production Coordinator; Production Accountant; Production Assistant;
First Assistant Director; Second Assistant Director; Script Supervisor; Stunt Coordinator;
Stunt Performer; Visual Effects Supervisor; Visual Effects Producer; Compositor; Animator;
Title Design; Transportation Captain; Driver; Caterer; Craft Service; Unit Publicist;
Still Photographer; Legal Counsel; Dialect Coach; Animal Trainer; Unit Medic; Security;
Researcher; Archive Producer; Narrator; Presenter; Series Producer; Series Editor;
Commissioning Editor; Head of Production; Post Production Supervisor; Online Editor; Graphics;
Subtitles; Assistant to the Director; Data Wrangler; Digital Imaging Technician; Rigging Gaffer;
Construction Manager; Scenic Artist; Storyboard Artist; Concept Artist; Choreographer;
Orchestrator; Music Producer; Drone Operator; Underwater Camera; Second Unit Director
"""
_HEADINGS = """
Directed by; Written by; Produced by; Music by; Edited by; Starring; Cast; with; and;
Special Thanks; Filmed on location in; The End; In Memory of; Based on the novel by;
Created by; Executive Producers; Camera Department; Sound Department; Art Department;
Costume Department; Electrical Department; Grip Department; Post Production; Visual Effects;
Music; Stunts; Second Unit; Production; Locations; Catering; Transport; Thanks to
"""
_SHOPS = """
Bakery; Pharmacy; Books; Coffee; Cafe; Barbers; Deli; Hardware; Florist; Pizza; Laundry;
Market; Grocery; Jewellers; Tailors; Kitchen; Diner; Bistro; Pub; Tavern; Inn; Hotel; Motel;
Garage; Motors; Tyres; Dental; Opticians; Pets; Toys; Shoes; Fashion; Boutique; Gallery;
Studio; Gym; Salon; Spa; Nails; Tattoo; Wines; Liquor; Newsagent; Butchers; Fishmonger;
Grill; Noodles; Sushi; Tacos; Kebabs; Fish and Chips; Ice Cream; Donuts; Bagels; Records;
Cycles; Electronics; Repairs; Antiques; Furniture; Carpets; Lighting; Travel; Insurance;
Estate Agents; Launderette; Bar and Grill; Brewery; Cinema; Theatre; Bookshop; Stationers
"""
_STREETS = "Street Road Avenue Lane Way Drive Boulevard Place Square Close Crescent Terrace"
_COMPANIES = "Pictures Films Productions Studios Media Entertainment Television Company"
_SUBJECTS = """
Economics; History; Physics; Chemistry; Biology; Medicine; Law; Politics; Engineering; Music;
Art; Literature; Philosophy; Geography; Mathematics; Computer Science; Psychology; Sociology;
Education; Health; Transport; Energy; Climate; Finance; Defence; Justice; Culture; Sport;
Agriculture; Housing; Environment; Architecture; Astronomy; Geology; Oceanography; Linguistics;
Archaeology; Anthropology; Nutrition; Public Health
"""
_TITLES = """
Reporter; Correspondent; Political Editor; Chief Executive; Spokesperson; Eyewitness;
Resident; Local Business Owner; Professor of {s}; Mayor of {p}; {p} City Council; {s} Expert;
Head Coach; Team Captain; Author; Historian; Doctor; Nurse; Firefighter; Police Spokesperson;
Minister for {s}; University of {p}; Director, {p} Museum; Chair, {p} {s} Society;
Senior Lecturer in {s}; Shop Owner; Teacher; Student; Farmer; Fisherman; Volunteer;
Campaigner; Former Player; Commentator; Economist; Lawyer; Architect; Engineer; Pilot
"""


def _words(text: str) -> list[str]:
    return list(dict.fromkeys(text.split()))


def _phrases(text: str) -> list[str]:
    return list(dict.fromkeys(" ".join(p.split()) for p in text.split(";") if p.strip()))


class Zipf:
    """Items drawn with weight 1/rank (list order), in batches: one numpy call per batch."""

    def __init__(self, items: list[str], exponent: float = 1.0) -> None:
        self.items = items
        w = 1 / np.arange(1, len(items) + 1) ** exponent
        self.cdf = np.cumsum(w / w.sum())

    def draw(self, rng: np.random.Generator, n: int) -> list[str]:
        at = np.searchsorted(self.cdf, rng.random(n), side="right")
        return [self.items[i] for i in np.minimum(at, len(self.items) - 1).tolist()]


class _Pool:
    """Draws from a Zipf list, a batch at a time, handed out one by one."""

    def __init__(self, rng: np.random.Generator, zipf: Zipf, batch: int) -> None:
        self.rng, self.zipf, self.batch = rng, zipf, max(batch, 8)
        self.left: list[str] = []

    def __call__(self) -> str:
        if not self.left:
            self.left = self.zipf.draw(self.rng, self.batch)[::-1]
        return self.left.pop()


FIRST, LAST = Zipf(_words(_FIRST)), Zipf(_words(_LAST))
PLACES, WORDS, SIGNS = Zipf(_phrases(_PLACES)), Zipf(_words(_WORDS)), Zipf(_phrases(_SIGNS))
ROLES, HEADINGS, SHOPS = Zipf(_phrases(_ROLES)), Zipf(_phrases(_HEADINGS)), Zipf(_phrases(_SHOPS))
STREETS, COMPANIES = Zipf(_words(_STREETS)), Zipf(_words(_COMPANIES))
SUBJECTS, TITLES = Zipf(_phrases(_SUBJECTS)), Zipf(_phrases(_TITLES))
NUMBERS = Zipf([str(k) for k in range(1, 400)])  # house numbers: low ones most often
YEARS = [str(y) for y in range(1975, 2027)]


def vocabulary() -> set[str]:
    """Every word a generated line can hold (lower case, as the text indexes keep them)."""
    lists = (FIRST, LAST, PLACES, WORDS, SIGNS, ROLES, HEADINGS, SHOPS, STREETS, COMPANIES,
             SUBJECTS, TITLES, NUMBERS)  # fmt: skip
    items = [item for z in lists for item in z.items] + YEARS
    # words as both text indexes split them; the titles' {s} and {p} are filled in
    return {w.lower() for i in items for w in re.findall(r"\w+", re.sub(r"{\w}", "", i))}


class _Video:
    """One video's draws: its cast, its signs and shops, and word pools."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng = rng
        batch = max(16, n)
        self.first, self.last = _Pool(rng, FIRST, batch), _Pool(rng, LAST, batch)
        self.word, self.place = _Pool(rng, WORDS, 4 * batch), _Pool(rng, PLACES, batch)
        self.sign, self.shop = _Pool(rng, SIGNS, batch), _Pool(rng, SHOPS, batch)
        self.role, self.heading = _Pool(rng, ROLES, batch), _Pool(rng, HEADINGS, batch)
        self.street, self.subject = _Pool(rng, STREETS, batch), _Pool(rng, SUBJECTS, batch)
        self.title = _Pool(rng, TITLES, batch)
        self.cast = [self.person() for _ in range(int(rng.integers(4, 16)))]
        self.company = f"{self.word().title()} {self.word().title()} {COMPANIES.draw(rng, 1)[0]}"
        makers: list[Callable[[], str]] = [
            self.sign, self.sign, self.sign, self.street_name, self.shop_name, self.shop_name,
            self.notice, self.caption, self.caption,
        ]  # fmt: skip
        # the places this video shows, each seen again and again
        self.signs = [
            makers[k]() for k in rng.integers(0, len(makers), max(2, n // 12)).tolist()
        ]  # fmt: skip
        self.sign_pick = Zipf(self.signs, 0.8)

    def person(self) -> str:
        return f"{self.first()} {self.last()}"

    def street_name(self) -> str:
        base = self.last() if self.rng.random() < 0.6 else self.word().title()
        number = f"{NUMBERS.draw(self.rng, 1)[0]} " if self.rng.random() < 0.3 else ""
        return f"{number}{base} {self.street()}"

    def shop_name(self) -> str:
        r = self.rng.random()
        if r < 0.4:
            return f"{self.first()}'s {self.shop()}"
        if r < 0.5:
            return f"{self.last()} & Sons"
        if r < 0.75:
            return f"{self.last()} {self.shop()}"
        return f"The {self.word().title()} {self.shop()}"

    def one_of_cast(self) -> str:
        return self.cast[int(self.rng.integers(len(self.cast)))]

    def notice(self) -> str:
        return " ".join(self.word() for _ in range(int(self.rng.integers(3, 9)))).capitalize()

    def caption(self) -> str:
        return " ".join(self.word() for _ in range(int(self.rng.integers(1, 5)))).upper()

    def ticker(self) -> str:
        words = [self.word() for _ in range(int(self.rng.integers(3, 7)))]
        words.insert(int(self.rng.integers(0, len(words))), self.place())
        if self.rng.random() < 0.3:
            words.insert(0, "BREAKING:")
        return " ".join(" ".join(words).upper().split()[:8])

    def title_line(self) -> str:
        return self.title().replace("{s}", self.subject()).replace("{p}", self.place())

    def credit(self) -> str:
        r = self.rng.random()
        if r < 0.35:
            return self.role()
        if r < 0.44:
            return self.heading()
        if r < 0.45:
            return f"© {YEARS[int(self.rng.integers(len(YEARS)))]} {self.company}"
        name = self.one_of_cast() if r < 0.55 else self.person()
        return name.upper() if r > 0.9 else name if r < 0.75 else f"{self.role()} {name}"


def text_rows(
    rng: np.random.Generator, dur: int, n: int, news: bool, job: int
) -> Iterator[tuple[Any, ...]]:
    """`n` text ranges of one video, numbered by start; rows as query_data's, `job` its
    text job's offset among the video's jobs."""
    if n <= 0:
        return
    v = _Video(rng, n)
    lines: list[tuple[int, int, str]] = []
    share = (0.1, 0.25, 0.2, 0.15, 0.3) if news else (0.1, 0.35, 0.4, 0.15, 0.0)
    counts = np.floor(n * np.array(share)).astype(int)
    counts[2] += n - int(counts.sum())  # signs take the remainder
    n_open, n_end, n_signs, n_lower, n_ticker = counts.tolist()
    # opening credits, one card after another inside the OpeningCredits cue (6-40 s)
    title = " ".join(v.word().title() for _ in range(int(rng.integers(1, 5))))
    cast = [v.one_of_cast().upper() for _ in range(max(0, n_open - 4))]
    cards = [f"{v.company} presents", title, *cast, "Directed by", v.person()][-n_open:]
    for k, line in enumerate(cards if n_open else []):
        s = 6000 + k * 34_000 // max(n_open, 1)
        lines.append((s, s + int(rng.integers(2000, 4000)), line))
    # the end roll inside the EndCredits cue (the last 60 s): lines pass, 3-6 s on screen
    for k in range(n_end):
        s = dur - 60_000 + k * 54_000 // max(n_end, 1)
        lines.append((s, min(dur, s + int(rng.integers(3000, 6000))), v.credit()))
    # signs and captions through the programme, runs as long as label runs
    lo, hi = 40_000, max(40_001, dur - 60_000)
    starts = rng.integers(lo, hi, n_signs).tolist()
    lengths = np.clip(rng.lognormal(np.log(3000), 0.8, n_signs), 40, 120_000).astype(int).tolist()
    for s, length, line in zip(starts, lengths, v.sign_pick.draw(rng, n_signs), strict=True):
        lines.append((s, min(dur, s + length), line))
    # lower thirds: a name and a title together (one left over: the name alone)
    for k in range(0, n_lower, 2):
        s = int(rng.integers(lo, hi))
        e = min(dur, s + int(rng.integers(4000, 7000)))
        lines.append((s, e, v.one_of_cast() if rng.random() < 0.6 else v.person()))
        if k + 1 < n_lower:
            lines.append((s, e, v.title_line()))
    # a news ticker: lines one after another through stretches of the programme
    at = int(rng.integers(lo, hi))
    for _ in range(n_ticker):
        length = int(rng.integers(5000, 12_000))
        if at + length > hi:
            at = int(rng.integers(lo, hi))
        lines.append((at, min(dur, at + length), v.ticker()))
        at += length
    lines.sort()
    conf = np.round(100 - 20 * rng.beta(1, 5, len(lines)), 3).tolist()
    for seq, ((s, e, line), c) in enumerate(zip(lines, conf, strict=True)):
        e = max(e, s + 1)
        yield job, "text", line[:256], None, seq, s, e, None, None, c, 1 + (e - s) // 500, "{}"
