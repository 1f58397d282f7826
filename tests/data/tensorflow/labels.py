"""Record what TensorFlow 1.8.0 says when it loads each test model (run with the TF 1.8 interpreter).

    tf18/bin/python tests/data/tensorflow/labels.py [extra model folders...]

Loads every ``*/model`` folder here (and any folder given) with ``tf.saved_model.loader.load`` and
the ``serve`` tag, as the platform's TensorFlow service does, and writes ``labels.json``: per
folder, "loads" or the first line of the exception TensorFlow raised. The tests compare the
checker's verdicts with these labels.
"""

from __future__ import print_function

import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def verdict(tf, path):
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        try:
            meta = tf.saved_model.loader.load(sess, ["serve"], path)
        except Exception as exc:  # noqa: BLE001 - the label is the exception
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return "%s: %s" % (type(exc).__name__, text.replace(path, "<model>"))
        return "loads (%d signatures)" % len(meta.signature_def)


def main():
    import tensorflow as tf

    assert tf.__version__ == "1.8.0", tf.__version__
    folders = sorted(glob.glob(os.path.join(HERE, "*", "model")) + glob.glob(os.path.join(HERE, "variants", "*", "model"))) + sys.argv[1:]
    out = {}
    for folder in folders:
        out[os.path.relpath(folder, HERE)] = verdict(tf, folder)
        print(os.path.relpath(folder, HERE), "->", out[os.path.relpath(folder, HERE)])
    if len(sys.argv) == 1:
        with open(os.path.join(HERE, "labels.json"), "w") as f:
            json.dump({"tensorflow": tf.__version__, "python": sys.version.split()[0], "labels": out}, f,
                      indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
