"""Variants of tf18_savedmodel, each with one defect, written with TensorFlow 1.8's own protobuf classes.

    tf18/bin/python tests/data/tensorflow/variants.py     # then labels.py records TF 1.8's verdicts

Each variant lands in variants/<name>/model. (An empty variables/ folder cannot be committed to
git; the tests build that case themselves.)
"""

import os
import shutil

from tensorflow.core.protobuf import saved_model_pb2

HERE = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(HERE, "tf18_savedmodel", "model")
def variant(name, mutate):
    dst = os.path.join(HERE, 'variants', name, 'model')
    if os.path.exists(dst): shutil.rmtree(dst)
    shutil.copytree(src, dst)
    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString(open(dst + '/saved_model.pb','rb').read())
    mutate(sm, dst)
    open(dst + '/saved_model.pb','wb').write(sm.SerializeToString())
    return dst
def mc(sm, d): sm.meta_graphs[0].graph_def.versions.min_consumer = 27
def bad(sm, d): sm.meta_graphs[0].graph_def.versions.bad_consumers.append(26)
def tags(sm, d): sm.meta_graphs[0].meta_info_def.tags[:] = ['train']
def attr(sm, d):
    n = [n for n in sm.meta_graphs[0].graph_def.node if n.op == 'MatMul'][0]; n.attr['grad_a'].b = True
def attr_strip_default(sm, d):
    n = [n for n in sm.meta_graphs[0].graph_def.node if n.op == 'MatMul'][0]; n.attr['grad_a'].b = False
    op = [o for o in sm.meta_graphs[0].meta_info_def.stripped_op_list.op if o.name == 'MatMul'][0]
    a = op.attr.add(); a.name = 'grad_a'; a.type = 'bool'; a.default_value.b = False
def missing_attr(sm, d):
    n = [n for n in sm.meta_graphs[0].graph_def.node if n.op == 'MatMul'][0]; del n.attr['T']
def novars(sm, d): shutil.rmtree(d + '/variables')
def noshard(sm, d): os.remove(d + '/variables/variables.data-00000-of-00001')
def shortshard(sm, d): open(d + '/variables/variables.data-00000-of-00001','r+b').truncate(30)
def unknown_op(sm, d):
    n = [n for n in sm.meta_graphs[0].graph_def.node if n.op == 'Softmax'][0]; n.op = 'Gelu'
def unknown_op_in_list(sm, d):
    n = [n for n in sm.meta_graphs[0].graph_def.node if n.op == 'Softmax'][0]; n.op = 'Gelu'
    op = [o for o in sm.meta_graphs[0].meta_info_def.stripped_op_list.op if o.name == 'Softmax'][0]; op.name = 'Gelu'
def corrupt_index(sm, d):
    p = d + '/variables/variables.index'; b = bytearray(open(p,'rb').read()); b[5] ^= 0xFF; open(p,'wb').write(bytes(b))
def nosig(sm, d): sm.meta_graphs[0].signature_def.clear()
def dep(sm, d):
    n = [n for n in sm.meta_graphs[0].graph_def.node if n.op == 'Softmax'][0]; n.op = 'BatchMatrixDiag'
def _bundle(d, variables):
    """Replace variables/ with a bundle TF 1.8's Saver writes for ``variables`` (name -> (dtype, shape))."""
    import tensorflow as tf
    shutil.rmtree(d + '/variables')
    with tf.Graph().as_default(), tf.Session() as sess:
        vs = [tf.get_variable(n, s, dtype=t, initializer=tf.zeros_initializer()) for n, (t, s) in variables.items()]
        sess.run(tf.global_variables_initializer())
        tf.train.Saver(vs).save(sess, d + '/variables/variables', write_meta_graph=False)
    os.remove(d + '/variables/checkpoint')
def missing_var(sm, d):
    import tensorflow as tf
    _bundle(d, {'dense/kernel': (tf.float32, [4, 3])})
def dtype_mismatch(sm, d):
    import tensorflow as tf
    _bundle(d, {'dense/kernel': (tf.float32, [4, 3]), 'dense/bias': (tf.float64, [3])})
def shape_mismatch(sm, d):
    import tensorflow as tf
    _bundle(d, {'dense/kernel': (tf.float32, [4, 3]), 'dense/bias': (tf.float32, [5])})
for name, fn in list(globals().items()):
    if callable(fn) and name not in ('variant', '_bundle') and getattr(fn, '__module__', '') == '__main__':
        variant(name, fn)
# A frozen GraphDef saved under the SavedModel's name.
dst = os.path.join(HERE, 'variants', 'graphdef_named_saved', 'model')
if os.path.exists(dst):
    shutil.rmtree(dst)
os.makedirs(dst)
shutil.copy(os.path.join(HERE, 'tf18_frozen', 'model', 'frozen_inference_graph.pb'), os.path.join(dst, 'saved_model.pb'))


def _raw(name, data):
    """A variant whose saved_model.pb is ``data`` (variables as exported)."""
    dst = os.path.join(HERE, 'variants', name, 'model')
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    with open(os.path.join(dst, 'saved_model.pb'), 'wb') as f:
        f.write(data)


_whole = open(os.path.join(src, 'saved_model.pb'), 'rb').read()
_raw('truncated', _whole[:len(_whole) // 2])
_raw('noise', bytes((i * 131 + 7) % 251 for i in range(3000)))


def deep(sm, d):
    """An attribute nested 40 functions deep (each level adds 3 messages): beyond protobuf's limit of 100."""
    n = [n for n in sm.meta_graphs[0].graph_def.node if n.op == 'MatMul'][0]
    v = n.attr['_nested']
    for _ in range(40):
        v.func.name = 'f'
        v = v.func.attr['a']
    v.i = 1


def shallow(sm, d):
    """The same, 20 functions deep: within the limit (underscore attributes are TensorFlow's own)."""
    n = [n for n in sm.meta_graphs[0].graph_def.node if n.op == 'MatMul'][0]
    v = n.attr['_nested']
    for _ in range(20):
        v.func.name = 'f'
        v = v.func.attr['a']
    v.i = 1


variant('deep', deep)
variant('shallow', shallow)
