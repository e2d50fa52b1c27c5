"""Minimal WordNet 3.0 noun reader over Debian wordnet-base files (/usr/share/wordnet)."""
import os
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
if __name__ == '__main__':
    import time; t = time.perf_counter(); w = WordNet(); print(len(w.syn), 'synsets', f'{time.perf_counter()-t:.2f}s')
    for wnid in ['n02124075', 'n04141076', 'n03891332', 'n02788148', 'n09468604', 'n04081281', 'n03763968', 'n07920052', 'n07747607']:
        o = int(wnid[1:]); print(w.syn[o][0], '->', [w.syn[a][0][0] for a in w.ancestors(o)])
