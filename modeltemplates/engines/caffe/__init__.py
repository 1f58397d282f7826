"""Caffe 1.0 (the Caffe-CPU/GPU-py27/py37 templates): prototxt and caffemodel readers, facts, rules.

``textformat`` reads protobuf text against caffe.proto, ``net`` turns a text or binary
NetParameter into facts (``.caffemodel`` through the shared wire reader ``engines.protowire``),
``facts`` is the Caffe 1.0 table derived by tools/derive_caffe_facts.py, ``checks`` holds the CAF rules.
"""
