"""Read a legacy (pre-1.6, non-zip) torch .pth state dict without torch. Returns {name: np.ndarray}."""
import pickle, struct, collections
import numpy as np

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
