"""What real MXNet 1.2.1 says (CPython 3.6.15, mxnet==1.2.1 wheel) about broken variants of convnet-*.

Run in a scratch folder holding copies of convnet-symbol.json and convnet-0000.params:
    venv36/bin/python fidelity_probe.py
The messages it printed are the "at deploy time" evidence of MXN002/3/10/12/14/16/17/19 in
modeltemplates/platform.py; MXN011 (newer mxnet_version) and MXN015 (a stray parameter) loaded fine,
which is why they are advice, not errors. An array with the 0xF993FACA magic killed the process
(std::bad_alloc).
"""
import json, os, struct, sys, traceback
import mxnet as mx
def run(label, fn):
    try:
        fn(); print(label, "OK")
    except Exception as e:
        msg = str(e).strip().splitlines()
        print(label, type(e).__name__, "|", [l for l in msg if l and not l.startswith("Stack trace") and not l.startswith("[bt]")][:2])
def bind(prefix, epoch):
    sym, a, x = mx.model.load_checkpoint(prefix, epoch)
    mod = mx.mod.Module(sym, data_names=["data"], label_names=["softmax_label"], context=mx.cpu())
    mod.bind(data_shapes=[("data", (1, 1, 8, 8))], label_shapes=[("softmax_label", (1,))], for_training=False)
    mod.set_params(a, x)
# unknown op
d = json.load(open("convnet-symbol.json"))
for n in d["nodes"]:
    if n["op"] == "Activation": n["op"] = "GroupNorm"
json.dump(d, open("badop-symbol.json", "w"))
run("MXN010", lambda: mx.sym.load("badop-symbol.json"))
# newer version
d = json.load(open("convnet-symbol.json")); d["attrs"]["mxnet_version"] = ["int", 10900]
json.dump(d, open("newer-symbol.json", "w")); os.link("convnet-0000.params", "newer-0000.params") if not os.path.exists("newer-0000.params") else None
run("MXN011", lambda: bind("newer", 0))
# gluon params
arrs = mx.nd.load("convnet-0000.params")
mx.nd.save("gluon-0000.params", {k.split(":",1)[1]: v for k, v in arrs.items()})
os.link("convnet-symbol.json", "gluon-symbol.json") if not os.path.exists("gluon-symbol.json") else None
run("MXN017", lambda: bind("gluon", 0))
# missing param
mx.nd.save("miss-0000.params", {k: v for k, v in arrs.items() if k != "arg:fc1_bias"})
os.link("convnet-symbol.json", "miss-symbol.json") if not os.path.exists("miss-symbol.json") else None
run("MXN014", lambda: bind("miss", 0))
# stray
mx.nd.save("stray-0000.params", dict(arrs, **{"arg:fc9_weight": mx.nd.ones((1,))}))
os.link("convnet-symbol.json", "stray-symbol.json") if not os.path.exists("stray-symbol.json") else None
run("MXN015", lambda: bind("stray", 0))
# shape
mx.nd.save("shape-0000.params", dict(arrs, **{"arg:fc1_weight": mx.nd.ones((5, 36))}))
os.link("convnet-symbol.json", "shape-symbol.json") if not os.path.exists("shape-symbol.json") else None
run("MXN016", lambda: bind("shape", 0))
# epoch missing
run("MXN019", lambda: bind("convnet", 3))
# V3 magic
raw = open("convnet-0000.params", "rb").read().replace(struct.pack("<I", 0xF993FAC9), struct.pack("<I", 0xF993FACA), 1)
open("v3-0000.params", "wb").write(raw)
run("MXN012", lambda: mx.nd.load("v3-0000.params"))
run("MXN002", lambda: mx.nd.load("convnet-symbol.json"))
open("trunc-0000.params","wb").write(open("convnet-0000.params","rb").read()[:500])
run("MXN003", lambda: mx.nd.load("trunc-0000.params"))
# aux as arg
mx.nd.save("prefix-0000.params", {("arg:" + k.split(":",1)[1]) : v for k, v in arrs.items()})
os.link("convnet-symbol.json", "prefix-symbol.json") if not os.path.exists("prefix-symbol.json") else None
run("MXN018", lambda: bind("prefix", 0))
