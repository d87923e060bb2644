"""The application layer: what the ``vosframe`` commands do, as a Python API.

Everything here is built on the library (``vosframe.core``, ``vosframe.data``,
``vosframe.metrics``, the models and plugins); nothing in the library imports it.

* :mod:`~vosframe.app.zoo`: the shipped models by name (:func:`~vosframe.app.zoo.load_model`,
  also ``vosframe.load_model``);
* :mod:`~vosframe.app.segment`: segment a video from disk into indexed PNGs;
* :mod:`~vosframe.app.bench`: the accuracy-vs-speed sweep of a gated model over τ;
* :mod:`~vosframe.app.selection`: held-out-fold evaluation and inference-setting sweeps;
* :mod:`~vosframe.app.demo`: the offline demo on the built-in clip;
* :mod:`~vosframe.app.plots`: the benchmark and demo figures (matplotlib);
* :mod:`~vosframe.app.registered`: what is registered (the library side of ``vosframe models``);
* :mod:`~vosframe.app.outdir`: output folders checked before any work and swapped in at the end.

The thread policy (:mod:`vosframe.threads`) is not here: sessions apply it too.

Submodules are not imported here, so ``vosframe --help`` and ``vosframe models`` stay free
of torch.
"""
