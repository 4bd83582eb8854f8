"""dlic_lib — the helper library of the *dlic* study book on deep-learning image compression.

Modules (one purpose each): ``data`` (manifest-driven datasets and image I/O), ``color``,
``codecs``, ``metrics``, ``subjective``, ``stats``, ``rd``, ``train``, ``plots``,
``profiles`` and ``cli`` (the ``dlic`` command).
"""

__version__ = "0.1.0"
