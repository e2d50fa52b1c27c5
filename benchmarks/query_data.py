"""A synthetic catalogue for benchmarks/query.py: videos, jobs and timeline ranges via COPY.

Shape (per video, rows in proportion to its duration, log-normal around 30 min):
shots ~18 % (contiguous, a cut every few seconds), five technical cues, faces ~10 %, text
~8 % (lines read in the picture: credits, signs, lower thirds, news tickers; see
benchmarks/query_text.py; 8 % of a video's rows on average, more in the news videos),
labels the rest — names Zipf-distributed (weight 1/rank) over the real Rekognition label
names below, in rough order of how often Rekognition reports them, the ones of the recorded
GetLabelDetection result included; run lengths log-normal (median 3 s); max confidence
skewed high (100 - 50·Beta(1, 3): median ~90, ~6 % at 99 or more). Moderation hits are rare
and clustered: about one video in twelve has them, in a few scenes, with the names and the
relative frequencies of the recorded GetContentModeration result.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.query_text import text_rows

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "rekognition"
FEATURES = ("segments", "labels", "moderation", "faces", "text")
TEXT_SHARE = 0.08  # of all rows, on average: a video's share varies (gamma), news has more
NEWS = 0.15  # the share of news videos (lower thirds and a ticker)

# Real Rekognition label names, most frequent first (with the parents Rekognition gives).
_LABELS_TEXT = """
Person; Human; Clothing; Apparel; Face; Man|Adult,Male,Person; Adult|Person; Male|Person;
Outdoors; Text; Woman|Adult,Female,Person; Female|Person; Nature; Indoors; Building|Architecture;
Architecture; Furniture; Plant; Tree|Plant; Vehicle|Transportation; Transportation;
Car|Vehicle,Transportation; Automobile|Vehicle,Transportation; Head|Person; Portrait|Face,Person;
Photography|Person; Sky; Hair|Person; Urban; City|Urban; Road; Street|Road,City; Boy|Male,Person;
Girl|Female,Person; Child|Person; Kid|Person; Finger|Hand,Body Part; Hand|Body Part; Body Part;
Smile|Face,Person; Room|Indoors; Table|Furniture; Chair|Furniture; Window; Door; Wall;
Floor; Flooring; Wood; Grass|Plant; Vegetation|Plant; Flower|Plant; Blossom|Plant;
Leaf|Plant; Water; Sea|Water; Ocean|Water; Beach|Coast,Shoreline,Water; Coast|Water;
Shoreline|Water; Waterfront|Water; Lake|Water; River|Water; Mountain|Outdoors; Landscape|Nature;
Scenery|Nature; Field|Nature; Rock|Nature; Cloud|Sky; Sunset|Sky; Sunrise|Sky; Night;
Light; Lighting; Lamp; Electronics; Computer|Electronics; Laptop|Computer,Electronics;
Monitor|Electronics; Screen|Electronics; Display|Electronics; Phone|Electronics;
Mobile Phone|Phone,Electronics; Camera|Electronics; Television|Electronics; Keyboard|Electronics;
Animal; Mammal|Animal; Pet|Animal; Dog|Animal,Canine,Mammal,Pet; Canine|Animal,Mammal;
Puppy|Dog,Animal,Canine,Mammal,Pet; Cat|Animal,Mammal,Pet; Kitten|Cat,Animal,Mammal,Pet;
Bird|Animal; Horse|Animal,Mammal; Cow|Animal,Mammal; Cattle|Animal,Mammal; Fish|Animal,Sea Life;
Sea Life|Animal; Wildlife|Animal; Insect|Animal; Food; Meal|Food; Dish|Food,Meal; Fruit|Food;
Vegetable|Food; Bread|Food; Pizza|Food; Dessert|Food; Cake|Dessert,Food; Drink; Beverage|Drink;
Cup; Coffee Cup|Cup; Bottle; Wine|Alcohol,Beverage,Drink; Alcohol|Beverage,Drink;
Beer|Alcohol,Beverage,Drink; Glass; Sport; Sports|Sport; Ball|Sport; Soccer|Sport,Team Sport;
Football|Sport,Team Sport; Basketball|Sport,Team Sport; Team Sport|Sport; Tennis|Sport;
Golf|Sport; Swimming|Sport; Running|Sport; Dance|Dance Pose,Leisure Activities;
Dance Pose|Leisure Activities; Leisure Activities; Crowd|Person; Audience|Crowd,Person;
Concert|Crowd,Person; Stage; Musical Instrument; Guitar|Musical Instrument; Music;
Musician|Person; Performer|Person; Microphone|Electronics; Party; Wedding; Sign|Symbol;
Symbol; Logo|Symbol,Trademark; Trademark|Symbol; Poster|Advertisement; Advertisement;
Paper; Book|Publication; Publication; Word|Text; Page|Text; Document|Text; Shop; Store|Shop;
Market; Shelf|Furniture; Brick; Interior Design|Indoors; Home Decor; Pattern; Art;
Painting|Art; Drawing|Art; Sculpture|Art; Statue|Sculpture,Art; Graffiti|Art; Shoe|Footwear;
Footwear|Clothing; Boot|Footwear,Clothing; Hat|Clothing; Cap|Hat,Clothing; Sunglasses|Accessories;
Accessories; Glasses|Accessories; Jewelry|Accessories; Necklace|Jewelry,Accessories;
Tie|Accessories; Suit|Clothing; Coat|Clothing; Overcoat|Coat,Clothing; Jacket|Coat,Clothing;
Shirt|Clothing; T-Shirt|Clothing; Pants|Clothing; Jeans|Pants,Clothing; Dress|Clothing;
Skirt|Clothing; Sleeve|Clothing; Long Sleeve|Sleeve,Clothing; Bag|Accessories;
Handbag|Bag,Accessories; Backpack|Bag; Costume|Clothing; Uniform|Clothing; Military;
Soldier|Military,Person; Army|Military; Weapon; Gun|Weapon; Police|Person; Officer|Person;
Fire; Flame|Fire; Smoke; Bonfire|Fire,Flame; Explosion; Kiss|Person; Hug|Person;
Walking|Person; Sitting|Person; Standing|Person; Sleeping|Person; Fitness|Sport;
Working Out|Fitness,Sport; Yoga|Fitness,Sport; Gym|Fitness,Sport; Classroom|Room,Indoors;
School|Building; Hospital|Building; Clinic|Building; Doctor|Person; Nurse|Person;
Restaurant|Building; Cafeteria|Restaurant,Building; Bar Counter|Pub; Pub; Hotel|Building;
Lobby|Indoors; Corridor|Indoors; Staircase|Architecture; Bridge|Architecture; Tower|Architecture;
Church|Architecture,Building; Temple|Architecture,Building; Castle|Architecture,Building;
Monument|Architecture; Stadium|Arena,Building; Arena|Building; Airport|Building;
Parking Lot|Parking; Parking; Highway|Road; Freeway|Road; Intersection|Road;
Crosswalk|Road,Zebra Crossing; Zebra Crossing|Road; Pedestrian|Person; Path; Sidewalk|Path;
Asphalt|Road; Tarmac|Road; Gravel|Road; Dirt Road|Road; Sand|Outdoors; Soil|Outdoors; Ground;
Countryside|Outdoors,Nature; Farm|Outdoors; Rural|Outdoors; Barn|Building; Fence;
Railing|Handrail; Handrail; Banister|Handrail; Pillar|Architecture; Column|Architecture;
Roof|Building; Chimney|Building; Balcony|Architecture; Porch|Architecture; Patio;
Pool|Water; Swimming Pool|Pool,Water; Fountain|Water; Bench|Furniture; Pole; Flag|Symbol;
Banner|Text; Billboard|Advertisement; Neon|Light; Lantern|Lamp; Candle; Clock;
Wristwatch|Clock; Plot; Chart|Plot; Diagram|Plot; Map|Diagram,Plot; Id Cards|Document,Text;
Money; Coin|Money; Cosmetics; Lipstick|Cosmetics; Beard|Face,Person; Mustache|Face,Person;
Tattoo|Skin; Skin; Blonde|Hair,Person; Toy; Doll|Toy; Teddy Bear|Toy; Game;
Video Gaming|Game; Screenshot; Cartoon|Art; Animation|Cartoon,Art; Anime|Cartoon,Art;
Comics|Book,Publication; Collage|Art; Canvas|Art; Silhouette; Shadow; Reflection; Mirror;
Vase|Pottery; Pottery; Bowl; Plate|Dish; Cutlery; Fork|Cutlery; Spoon|Cutlery;
Knife|Cutlery,Weapon; Appliance; Oven|Appliance; Refrigerator|Appliance; Sink;
Bathroom|Room,Indoors; Bathtub|Bathroom; Toilet|Bathroom; Shower|Bathroom; Towel;
Curtain|Home Decor; Carpet|Home Decor; Rug|Home Decor; Cushion|Home Decor;
Pillow|Cushion,Home Decor; Blanket|Home Decor; Bed|Furniture; Bedroom|Room,Indoors;
Couch|Furniture; Living Room|Room,Indoors; Kitchen|Room,Indoors; House|Building,Housing;
Housing|Building; Villa|House,Building; Cottage|House,Building; Skyscraper|City,Urban,Building;
High Rise|City,Urban,Building; Office Building|Building; Downtown|City,Urban;
Metropolis|City,Urban; Town|Urban; Neighborhood|Urban; Forest|Nature; Woodland|Nature;
Jungle|Nature; Garden|Nature; Yard|Nature; Park|Nature; Potted Plant|Plant; Snow|Nature;
Ice|Nature; Winter|Nature; Desert|Nature; Valley|Nature; Hill|Nature; Peak|Mountain;
Mountain Range|Mountain; Waterfall|Water; Moon|Night; Outer Space|Astronomy; Astronomy;
Truck|Vehicle,Transportation; Bus|Vehicle,Transportation; Motorcycle|Vehicle,Transportation;
Bicycle|Vehicle,Transportation; Bike|Vehicle,Transportation; Boat|Vehicle,Transportation;
Watercraft|Vehicle,Transportation; Vessel|Vehicle,Transportation; Ship|Vehicle,Transportation;
Airplane|Aircraft,Vehicle,Transportation; Aircraft|Vehicle,Transportation;
Train|Vehicle,Transportation; Wheel|Machine; Tire|Wheel,Machine; Machine; Spoke|Wheel,Machine;
License Plate|Vehicle,Transportation; Traffic Light|Light
"""


def label_names() -> list[tuple[str, list[str]]]:
    """(name, parents), most frequent first; the recorded result's labels join the list."""
    out: dict[str, list[str]] = {}
    for item in _LABELS_TEXT.replace("\n", " ").split(";"):
        name, _, parents = item.strip().partition("|")
        out[name] = [p for p in parents.split(",") if p]
    recorded = FIXTURES / "labelpy_kfir" / "GetLabelDetection.page1.json"
    if recorded.is_file():
        for item in json.loads(recorded.read_text())["Labels"]:
            label = item["Label"]
            out.setdefault(label["Name"], [p["Name"] for p in label.get("Parents", [])])
    return list(out.items())


def moderation_names() -> list[tuple[str, str | None, int]]:
    """(name, parent, how often) from the recorded GetContentModeration result."""
    recorded = FIXTURES / "netflix_93f8" / "GetContentModeration.page1.json"
    counts: dict[tuple[str, str | None], int] = {}
    if recorded.is_file():
        for item in json.loads(recorded.read_text())["ModerationLabels"]:
            m = item["ModerationLabel"]
            key = (m["Name"], m.get("ParentName") or None)
            counts[key] = counts.get(key, 0) + 1
    else:  # the same names, for a checkout without ../shared
        counts = {("Violence", None): 40, ("Weapon Violence", "Violence"): 25,
                  ("Explicit Nudity", None): 6, ("Visually Disturbing", None): 4}  # fmt: skip
    return [(n, p, c) for (n, p), c in sorted(counts.items(), key=lambda kv: -kv[1])]


def video_id(i: int) -> str:
    # 32 hex like the project's ids, in no particular order against load order
    return hashlib.md5(f"vidx-bench-{i}".encode()).hexdigest()


@dataclass(frozen=True)
class Plan:
    rows: int
    videos: int
    seed: int = 7

    def durations_ms(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        minutes = np.clip(rng.lognormal(np.log(30), 0.6, self.videos), 2, 180)
        return (minutes * 60_000).astype(np.int64)

    def rows_per_video(self) -> np.ndarray:
        dur = self.durations_ms().astype(np.float64)
        share = np.floor(self.rows * dur / dur.sum()).astype(np.int64)
        share[: self.rows - int(share.sum())] += 1  # the rounding remainder, one each
        return np.maximum(share, 0)


def video_rows(plan: Plan) -> list[dict[str, Any]]:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for i, dur in enumerate(plan.durations_ms().tolist()):
        out.append(
            {
                "id": video_id(i), "source": f"s3://bench/video{i}.mp4",
                "filename": f"video{i}.mp4", "duration_ms": dur, "fps_num": 25, "fps_den": 1,
                "cfr": True, "frame_count": dur // 40, "width": 1920, "height": 1080,
                "rotation": 0, "start_pts_ms": 0, "requested_features": list(FEATURES),
                "requested_clips": [], "clip_mode": "accurate", "clip_min_length_ms": 0,
                "clip_keep_opening_credits": False, "extra": {},
                "created_at": now, "updated_at": now,
            }
        )  # fmt: skip
    return out


def job_rows(plan: Plan) -> list[dict[str, Any]]:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        {
            "id": i * len(FEATURES) + k + 1, "video_id": video_id(i), "feature": feature,
            "params_hash": "0" * 64, "params": {}, "engine": "aws",
            "client_token": f"bench-{i}-{feature}", "state": "SUCCEEDED",
            "pages_collected": 1, "items_collected": 0, "generation": 0, "attempts": 1,
            "created_at": now, "updated_at": now,
        }
        for i in range(plan.videos)
        for k, feature in enumerate(FEATURES)
    ]  # fmt: skip


def range_rows(plan: Plan) -> Iterator[tuple[Any, ...]]:
    """Every timeline_ranges row (COPY column order: RANGE_COLUMNS), video after video."""
    rng = np.random.default_rng(plan.seed + 1)
    labels = label_names()
    weights = 1 / np.arange(1, len(labels) + 1)
    weights /= weights.sum()
    label_data = [json.dumps({"parents": p}) for _, p in labels]
    mods = moderation_names()
    mod_w = np.array([c for _, _, c in mods], dtype=np.float64)
    mod_w /= mod_w.sum()
    next_id = 1
    for i, (dur, budget) in enumerate(
        zip(plan.durations_ms().tolist(), plan.rows_per_video().tolist(), strict=True)
    ):
        vid, job = video_id(i), i * len(FEATURES) + 1
        for row in _one_video(rng, dur, budget, labels, weights, label_data, mods, mod_w):
            yield (next_id, vid, job + row[0], *row[1:])
            next_id += 1


RANGE_COLUMNS = (
    "id", "video_id", "job_id", "kind", "name", "parent", "seq", "start_ms", "end_ms",
    "start_frame", "end_frame", "max_confidence", "detections", "data",
)  # fmt: skip
_CUES = ("ColorBars", "BlackFrames", "OpeningCredits", "Content", "EndCredits")


def _one_video(
    rng: np.random.Generator,
    dur: int,
    budget: int,
    labels: list[tuple[str, list[str]]],
    weights: np.ndarray,
    label_data: list[str],
    mods: list[tuple[str, str | None, int]],
    mod_w: np.ndarray,
) -> Iterator[tuple[Any, ...]]:
    """Rows without id/video: (job offset, kind, name, parent, seq, start, end, frames, ...)."""
    cues = min(len(_CUES), budget)
    # shots: a contiguous partition of the video (cut points drawn twice count once)
    shots = min(budget - cues, max(1, int(budget * 0.18)))
    cuts = np.unique(np.concatenate(([0, dur], rng.integers(1, dur, max(shots - 1, 0)))))
    shots = len(cuts) - 1 if budget > cues else 0
    faces = min(budget - cues - shots, int(budget * 0.10))
    moderation = 0
    if rng.random() < 1 / 12:  # a video with moderation hits has a few hundred per hour
        moderation = min(budget - cues - shots - faces, int(rng.integers(5, 40) * dur / 600_000))
    news = rng.random() < NEWS
    # news doubles the share; the others' is scaled so that all average TEXT_SHARE
    text_share = TEXT_SHARE / (1 + NEWS) * (2 if news else 1) * rng.gamma(4, 1 / 4)
    text = min(budget - cues - shots - faces - moderation, int(budget * min(text_share, 0.4)))
    n_labels = budget - cues - shots - faces - moderation - text
    confs = np.round(rng.uniform(85, 100, len(cuts)), 3).tolist()
    pairs = zip(cuts[:shots].tolist(), cuts[1 : shots + 1].tolist(), strict=True)
    for seq, (s, e) in enumerate(pairs):
        yield 0, "shot", "Shot", None, seq, s, e, s // 40, max(e // 40 - 1, 0), confs[seq], 1, "{}"
    # bars, black, opening credits, the programme, end credits (videos are >= 2 min)
    bounds = [0, 5000, 6000, 40_000, dur - 60_000, dur]
    for seq, name in enumerate(_CUES[:cues]):
        s, e = bounds[seq], bounds[seq + 1]
        yield 0, "cue", name, None, seq, s, e, s // 40, e // 40 - 1, 98.0, 1, "{}"
    # labels, faces, moderation, text: runs (label job = offset 1, moderation 2, faces 3, text 4)
    yield from _runs(rng, dur, n_labels, 1, "label", weights, labels, label_data, 3000)
    yield from _runs(rng, dur, faces, 3, "face", None, [("Face", [])], ["{}"], 4000)
    yield from text_rows(rng, dur, text, news, FEATURES.index("text"))
    if moderation:
        scenes = rng.integers(0, dur, max(1, moderation // 20))  # clustered: a few scenes
        starts = np.sort(
            np.clip(rng.choice(scenes, moderation) + rng.integers(-20_000, 20_000, moderation),
                    0, dur - 1)
        )  # fmt: skip
        which = rng.choice(len(mods), moderation, p=mod_w)
        conf = np.round(50 + 50 * rng.beta(2, 2, moderation), 3)
        rows = zip(starts.tolist(), which.tolist(), conf.tolist(), strict=True)
        for seq, (s, k, c) in enumerate(rows):
            name, parent, _ = mods[k]
            e = min(dur, s + 500 + int(rng.integers(0, 4000)))
            yield 2, "moderation", name, parent, seq, s, e, None, None, c, 1 + (e - s) // 500, "{}"


def _runs(
    rng: np.random.Generator,
    dur: int,
    n: int,
    job_offset: int,
    kind: str,
    weights: np.ndarray | None,
    names: list[tuple[str, list[str]]],
    data: list[str],
    median_ms: int,
) -> Iterator[tuple[Any, ...]]:
    if n <= 0:
        return
    which = rng.choice(len(names), n, p=weights) if weights is not None else np.zeros(n, int)
    starts = np.sort(rng.integers(0, dur, n))
    lengths = np.clip(rng.lognormal(np.log(median_ms), 0.8, n), 40, 120_000).astype(np.int64)
    ends = np.minimum(starts + lengths, dur)
    ends = np.maximum(ends, starts + 1)
    conf = np.round(100 - 50 * rng.beta(1, 3, n), 3)
    for seq, (k, s, e, c) in enumerate(
        zip(which.tolist(), starts.tolist(), ends.tolist(), conf.tolist(), strict=True)
    ):
        name, parents = names[k]
        parent = parents[0] if parents else None
        yield job_offset, kind, name, parent, seq, s, e, None, None, c, 1 + (e - s) // 500, data[k]
