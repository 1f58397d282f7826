"""MXNet 1.2.1 (the MXNet-py27/py37 templates): symbol and params readers, facts, rules.

``symbol`` reads ``<name>-symbol.json``, ``params`` reads ``<name>-<epoch>.params``, ``facts`` is the
1.2.1 table derived by tools/derive_mxnet_facts.py, ``checks`` holds the MXN rules.
"""
