"""Write the real TensorFlow models the tests read (run once; the outputs are committed).

Two interpreters, neither needed by the test suite:

    # TensorFlow 1.8.0 itself (CPython 3.6):  python3.6 -m venv tf18 && tf18/bin/pip install tensorflow==1.8.0
    tf18/bin/python tests/data/tensorflow/make_models.py tf18
    # a current TensorFlow:                   python3.11 -m venv tf2 && tf2/bin/pip install tensorflow-cpu==2.15.1
    tf2/bin/python tests/data/tensorflow/make_models.py tf2

Each model is written under tests/data/tensorflow/<name>/ (a `model/` folder as the platform
wants it, or the file users upload instead). Then ``labels.py`` (run with the TensorFlow 1.8
interpreter) records what TensorFlow 1.8 says when it loads each one.
"""

from __future__ import print_function

import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def fresh(name):
    path = os.path.join(HERE, name)
    if os.path.exists(path):
        shutil.rmtree(path)
    return path


def tf1_graph(tf, seed=0):
    """A small dense classifier: x[?, 4] -> softmax[?, 3], two variables, like a typical TF1 export."""
    tf.set_random_seed(seed)
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    w = tf.get_variable("dense/kernel", [4, 3], initializer=tf.constant_initializer(0.5))
    b = tf.get_variable("dense/bias", [3], initializer=tf.zeros_initializer())
    y = tf.nn.softmax(tf.matmul(x, w) + b, name="probabilities")
    return x, y


def write_tf1_saved_model(tf, path):
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        x, y = tf1_graph(tf)
        sess.run(tf.global_variables_initializer())
        builder = tf.saved_model.builder.SavedModelBuilder(path)
        sig = tf.saved_model.signature_def_utils.predict_signature_def(inputs={"images": x}, outputs={"scores": y})
        builder.add_meta_graph_and_variables(
            sess, [tf.saved_model.tag_constants.SERVING], signature_def_map={"predict_images": sig})
        builder.save()
        return sess, graph


def make_tf18(tf):
    model = os.path.join(fresh("tf18_savedmodel"), "model")
    write_tf1_saved_model(tf, model)
    # A frozen graph: what many users upload instead of a SavedModel.
    out = os.path.join(fresh("tf18_frozen"), "model")
    os.makedirs(out)
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        tf1_graph(tf)
        sess.run(tf.global_variables_initializer())
        frozen = tf.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["probabilities"])
        with open(os.path.join(out, "frozen_inference_graph.pb"), "wb") as f:
            f.write(frozen.SerializeToString())


def make_tf18_assets(tf):
    """A vocabulary lookup whose table reads an asset file (assets/vocab.txt); and the same without it."""
    import tempfile

    model = os.path.join(fresh("tf18_assets"), "model")
    here = os.getcwd()
    work = tempfile.mkdtemp()
    os.chdir(work)  # the graph records the vocabulary's path as given: keep it relative
    try:
        with open("vocab.txt", "w") as f:
            f.write("a\nb\nc\n")
        with tf.Graph().as_default(), tf.Session() as sess:
            x = tf.placeholder(tf.string, [None], name="x")
            table = tf.contrib.lookup.index_table_from_file("vocab.txt")
            y = table.lookup(x)
            tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, tf.constant("vocab.txt", name="vocab_asset"))
            sess.run(tf.tables_initializer())
            builder = tf.saved_model.builder.SavedModelBuilder(model)
            sig = tf.saved_model.signature_def_utils.predict_signature_def({"x": x}, {"y": y})
            builder.add_meta_graph_and_variables(
                sess, ["serve"], signature_def_map={"serving_default": sig},
                assets_collection=tf.get_collection(tf.GraphKeys.ASSET_FILEPATHS),
                legacy_init_op=tf.tables_initializer())
            builder.save()
    finally:
        os.chdir(here)
        shutil.rmtree(work)
    missing = os.path.join(HERE, "variants", "noasset", "model")
    if os.path.exists(missing):
        shutil.rmtree(missing)
    shutil.copytree(model, missing)
    os.remove(os.path.join(missing, "assets", "vocab.txt"))
    os.rmdir(os.path.join(missing, "assets"))


def make_tf18_contrib(tf):
    """A graph with an op only tf.contrib registers (ImageProjectiveTransform, from tf.contrib.image)."""
    model = os.path.join(fresh("tf18_contrib"), "model")
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [1, 8, 8, 1], name="x")
        y = tf.identity(tf.contrib.image.rotate(x, 0.5), name="rotated")
        builder = tf.saved_model.builder.SavedModelBuilder(model)
        sig = tf.saved_model.signature_def_utils.predict_signature_def({"images": x}, {"rotated": y})
        builder.add_meta_graph_and_variables(sess, ["serve"], signature_def_map={"serving_default": sig})
        builder.save()
    os.rmdir(os.path.join(model, "variables"))  # no variables: git keeps no empty folder anyway


def make_tf2(tf):
    v1 = tf.compat.v1
    # TF1-style graph written by a current TensorFlow (through tf.compat.v1).
    model = os.path.join(fresh("tf2_compat_v1"), "model")
    v1.disable_eager_execution()
    with v1.Graph().as_default() as graph, v1.Session(graph=graph) as sess:
        x = v1.placeholder(tf.float32, [None, 4], name="x")
        w = v1.get_variable("dense/kernel", [4, 3], initializer=v1.constant_initializer(0.5), use_resource=False)
        b = v1.get_variable("dense/bias", [3], initializer=v1.zeros_initializer(), use_resource=False)
        y = tf.nn.softmax(tf.matmul(x, w) + b, name="probabilities")
        sess.run(v1.global_variables_initializer())
        builder = v1.saved_model.builder.SavedModelBuilder(model)
        sig = v1.saved_model.signature_def_utils.predict_signature_def(inputs={"images": x}, outputs={"scores": y})
        builder.add_meta_graph_and_variables(sess, ["serve"], signature_def_map={"predict_images": sig},
                                             strip_default_attrs=True)
        builder.save()


def make_tf2_eager(tf):
    class Dense(tf.Module):
        def __init__(self):
            super().__init__()
            self.kernel = tf.Variable(tf.fill([4, 3], 0.5), name="kernel")
            self.bias = tf.Variable(tf.zeros([3]), name="bias")

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="images")])
        def __call__(self, x):
            return {"scores": tf.nn.softmax(tf.matmul(x, self.kernel) + self.bias)}

    module = Dense()
    model = os.path.join(fresh("tf2_savedmodel"), "model")
    tf.saved_model.save(module, model, signatures=module.__call__)
    # A TF2 checkpoint without any graph.
    ckpt = os.path.join(fresh("tf2_checkpoint"), "model")
    tf.train.Checkpoint(model=module).write(os.path.join(ckpt, "ckpt"))
    # Keras files and a TFLite flatbuffer.
    keras = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3, activation="softmax")])
    out = os.path.join(fresh("keras_h5"), "model")
    os.makedirs(out)
    keras.save(os.path.join(out, "model.h5"))
    out = os.path.join(fresh("keras_v3"), "model")
    os.makedirs(out)
    keras.save(os.path.join(out, "model.keras"))
    out = os.path.join(fresh("tflite"), "model")
    os.makedirs(out)
    lite = tf.lite.TFLiteConverter.from_concrete_functions([module.__call__.get_concrete_function()], module)
    with open(os.path.join(out, "model.tflite"), "wb") as f:
        f.write(lite.convert())


if __name__ == "__main__":
    import tensorflow as tf

    if sys.argv[1] == "tf18":
        assert tf.__version__ == "1.8.0", tf.__version__
        make_tf18(tf)
        make_tf18_assets(tf)
        make_tf18_contrib(tf)
    else:
        make_tf2_eager(tf)
        make_tf2(tf)
