#!/usr/bin/env python3
"""Build worker/engines/local/data/labels.json, the local labels engine's taxonomy.

Inputs (neither is needed at run time, only here):
- WordNet 3.0's noun database as Debian's `wordnet-base` installs it (/usr/share/wordnet;
  `apt-get install -y wordnet-base`). Princeton WordNet 3.0 licence: see NOTICE below.
- scripts/data/imagenet_synsets.txt: ImageNet-1k class index -> WordNet id, copied from
  the timm 1.0.31 wheel (timm/data/_info/imagenet_synsets.txt, Apache-2.0).

Each ImageNet class gets a leaf name (its own whitelisted name, else its first WordNet
lemma capitalised: "Egyptian Cat", "Espresso") and, as parents, the Rekognition-style
names of the whitelisted synsets above it (WordNet hypernyms, nearest first). Each name
gets its parents and a category (its own, else its nearest parent's).

Usage: scripts/build_label_taxonomy.py [--check]   (--check: fail if the file differs)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDNET = Path("/usr/share/wordnet")
SYNSETS = ROOT / "scripts" / "data" / "imagenet_synsets.txt"
OUT = ROOT / "worker" / "engines" / "local" / "data" / "labels.json"

NOTICE = [
    "Built by scripts/build_label_taxonomy.py; do not edit by hand.",
    "Hierarchy from WordNet 3.0: WordNet 3.0 Copyright 2006 by Princeton University. All rights"
    " reserved. Permission to use, copy, modify and distribute this software and database and"
    " its documentation for any purpose and without fee or royalty is hereby granted, provided"
    " that you agree to comply with the following copyright notice and statements, including"
    " the disclaimer, and that the same appear on ALL copies of the software, database and"
    " documentation, including modifications that you make for internal use or for"
    " distribution. THIS SOFTWARE AND DATABASE IS PROVIDED 'AS IS' AND PRINCETON UNIVERSITY"
    " MAKES NO REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT"
    " LIMITATION, PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANT-"
    " ABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR THAT THE USE OF THE LICENSED SOFTWARE,"
    " DATABASE OR DOCUMENTATION WILL NOT INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS,"
    " TRADEMARKS OR OTHER RIGHTS. The name of Princeton University or Princeton may not be"
    " used in advertising or publicity pertaining to distribution of the software and/or"
    " database. Title to copyright in this software, database and any associated"
    " documentation shall at all times remain with Princeton University and LICENSEE agrees"
    " to preserve same.",
    "ImageNet-1k class index -> WordNet id list from the timm 1.0.31 wheel"
    " (timm/data/_info/imagenet_synsets.txt), Apache-2.0.",
]

# WordNet synset -> Rekognition-style names (several: most specific first)
WHITELIST: dict[str, list[str]] = {
    "animal.n.01": ["Animal"],
    "mammal.n.01": ["Mammal"],
    "domestic_animal.n.01": ["Pet"],
    "cat.n.01": ["Cat"],
    "feline.n.01": ["Feline"],
    "dog.n.01": ["Dog"],
    "bird.n.01": ["Bird"],
    "fish.n.01": ["Fish"],
    "reptile.n.01": ["Reptile"],
    "insect.n.01": ["Insect"],
    "person.n.01": ["Person"],
    "conveyance.n.03": ["Transportation"],
    "vehicle.n.01": ["Vehicle"],
    "car.n.01": ["Car"],
    "motorcycle.n.01": ["Motorcycle"],
    "bicycle.n.01": ["Bicycle"],
    "aircraft.n.01": ["Aircraft"],
    "airplane.n.01": ["Airplane"],
    "vessel.n.02": ["Watercraft"],
    "boat.n.01": ["Boat"],
    "ship.n.01": ["Ship"],
    "truck.n.01": ["Truck"],
    "train.n.01": ["Train"],
    "rocket.n.01": ["Rocket"],
    "spacecraft.n.01": ["Spaceship"],
    "weapon.n.01": ["Weapon"],
    "food.n.01": ["Food"],
    "food.n.02": ["Food"],
    "edible_fruit.n.01": ["Fruit"],
    "citrus.n.01": ["Citrus Fruit"],
    "produce.n.01": ["Produce"],
    "vegetable.n.01": ["Vegetable"],
    "beverage.n.01": ["Beverage"],
    "coffee.n.01": ["Coffee"],
    "dessert.n.01": ["Dessert"],
    "dish.n.02": ["Meal"],
    "plant.n.02": ["Plant"],
    "flower.n.01": ["Flower"],
    "tree.n.01": ["Tree"],
    "geological_formation.n.01": ["Landscape", "Nature", "Outdoors"],
    "natural_elevation.n.01": ["Mountain"],
    "shore.n.01": ["Shoreline"],
    "building.n.01": ["Building", "Architecture"],
    "mercantile_establishment.n.01": ["Shop"],
    "house.n.01": ["House"],
    "bridge.n.01": ["Bridge"],
    "fence.n.01": ["Fence"],
    "railing.n.01": ["Railing"],
    "cup.n.01": ["Cup"],
    "crockery.n.01": ["Pottery"],
    "tableware.n.01": ["Tableware"],
    "bottle.n.01": ["Bottle"],
    "musical_instrument.n.01": ["Musical Instrument"],
    "clothing.n.01": ["Clothing"],
    "footwear.n.01": ["Footwear"],
    "headdress.n.01": ["Hat"],
    "furniture.n.01": ["Furniture"],
    "electronic_equipment.n.01": ["Electronics"],
    "computer.n.01": ["Computer"],
    "camera.n.01": ["Camera"],
    "sports_equipment.n.01": ["Sport"],
    "ball.n.01": ["Ball"],
    "toy.n.01": ["Toy"],
    "tool.n.01": ["Tool"],
    "timepiece.n.01": ["Clock"],
    "signboard.n.01": ["Sign"],
    "home_appliance.n.01": ["Appliance"],
    "bag.n.04": ["Bag"],
}

CATEGORIES: dict[str, str] = {
    "Animals and Pets": "Animal, Mammal, Pet, Cat, Feline, Dog, Bird, Fish, Reptile, Insect",
    "Vehicles and Automotive": "Transportation, Vehicle, Car, Motorcycle, Bicycle, Aircraft,"
    " Airplane, Watercraft, Boat, Ship, Truck, Train, Rocket, Spaceship",
    "Weapons and Military": "Weapon",
    "Person Description": "Person, Face, Head",
    "Food and Beverage": "Food, Fruit, Citrus Fruit, Produce, Vegetable, Beverage, Coffee,"
    " Dessert, Meal",
    "Nature and Outdoors": "Plant, Flower, Tree, Landscape, Nature, Outdoors, Mountain, Shoreline",
    "Buildings and Architecture": "Building, Architecture, Shop, House, Bridge, Fence, Railing",
    "Home and Indoors": "Cup, Pottery, Tableware, Bottle, Furniture, Clock, Appliance",
    "Apparel and Accessories": "Clothing, Footwear, Hat, Bag",
    "Hobbies and Interests": "Musical Instrument",
    "Technology and Computing": "Electronics, Computer, Camera",
    "Sports": "Sport, Ball",
    "Toys and Gaming": "Toy",
    "Tools and Machinery": "Tool",
    "Text and Documents": "Sign",
}

# the face detector's labels (not ImageNet's): a face implies a head and a person
FACE_LABELS: dict[str, list[str]] = {"Person": [], "Head": ["Person"], "Face": ["Head", "Person"]}


class WordNet:
    """WordNet 3.0 nouns: synset offset -> (lemmas, hypernym offsets); lemma -> senses."""

    def __init__(self, root: Path = WORDNET) -> None:
        self.synsets: dict[int, tuple[list[str], list[int]]] = {}
        with (root / "data.noun").open(encoding="latin-1") as fh:
            for line in fh:
                if line.startswith(" "):
                    continue  # the licence header
                p = line.split(" | ")[0].split()
                offset, n_words = int(p[0]), int(p[3], 16)
                lemmas = [p[4 + 2 * i] for i in range(n_words)]
                i = 4 + 2 * n_words
                n_pointers = int(p[i])
                i += 1
                hypernyms = []
                for _ in range(n_pointers):
                    symbol, target, pos = p[i], int(p[i + 1]), p[i + 2]
                    i += 4
                    if symbol in ("@", "@i") and pos == "n":
                        hypernyms.append(target)
                self.synsets[offset] = (lemmas, hypernyms)
        self.senses: dict[str, list[int]] = {}
        with (root / "index.noun").open(encoding="latin-1") as fh:
            for line in fh:
                if line.startswith(" "):
                    continue
                p = line.split()
                n_pointers = int(p[3])
                self.senses[p[0]] = [int(x) for x in p[4 + n_pointers + 2 :]]

    def lookup(self, spec: str) -> int:
        """'cat.n.01' -> its synset offset."""
        lemma, _, number = spec.rsplit(".", 2)
        return self.senses[lemma][int(number) - 1]

    def ancestors(self, offset: int) -> list[int]:
        """Every hypernym above `offset`, nearest first (breadth first)."""
        seen: set[int] = set()
        out: list[int] = []
        level = [offset]
        while level:
            following = []
            for o in level:
                for h in self.synsets[o][1]:
                    if h not in seen:
                        seen.add(h)
                        out.append(h)
                        following.append(h)
            level = following
        return out


def _capitalised(lemma: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in lemma.replace("_", " ").split())


def _extend(target: list[str], names: list[str]) -> None:
    target += [n for n in names if n not in target]


def build(wordnet_root: Path = WORDNET, synsets: Path = SYNSETS) -> str:
    """The taxonomy file's text."""
    wn = WordNet(wordnet_root)
    named: dict[int, list[str]] = {}
    for spec, names in WHITELIST.items():
        _extend(named.setdefault(wn.lookup(spec), []), names)

    def names_above(offset: int) -> list[str]:
        out: list[str] = []
        for a in wn.ancestors(offset):
            _extend(out, named.get(a, []))
        return out

    parents: dict[str, list[str]] = {}
    for offset, names in named.items():
        above = names_above(offset)
        for i, name in enumerate(names):
            _extend(parents.setdefault(name, []), [m for m in names[i + 1 :] + above if m != name])
    classes = []
    for wnid in synsets.read_text().split():
        offset = int(wnid[1:])
        own = named.get(offset, [])
        leaf = own[0] if own else _capitalised(wn.synsets[offset][0][0])
        above = [n for n in own[1:] + names_above(offset) if n != leaf]
        classes.append({"wnid": wnid, "name": leaf, "parents": above})
        _extend(parents.setdefault(leaf, []), above)
    for name, above in FACE_LABELS.items():
        _extend(parents.setdefault(name, []), above)
    own_category = {n: c for c, names in CATEGORIES.items() for n in names.split(", ")}
    labels = {}
    for name in sorted(parents):
        category = own_category.get(name)
        if category is None:
            category = next((own_category[p] for p in parents[name] if p in own_category), None)
        labels[name] = {"parents": parents[name], "category": category}
    body = {"notice": NOTICE, "classes": classes, "labels": labels}
    return json.dumps(body, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = build()
    if "--check" in argv:
        if OUT.read_text() != text:
            print(f"{OUT} is not what this script builds: run it", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
