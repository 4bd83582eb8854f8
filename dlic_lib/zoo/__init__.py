"""The checkpoint zoo: every trained network of the book, found by what it is, loaded by checksum.

An entry (:class:`ZooEntry`) records the ``architecture`` (a name of :mod:`dlic_lib.models`), the
training ``task`` (``"rd"``, ``"proxiqa"``, ...), the ``objective`` (``"mse"``, ``"ms-ssim"``, ...),
the ``rate_key`` (``{"quality": 3, "lmbda": 0.0067}``, ``{"iterations": 16}``, ``{"qf": 50}`` or
``{}``), the ``build`` arguments of :func:`dlic_lib.models.build_model`, the file ``path`` and its
``sha256``, the training ``config`` and the validation figures ``val``. Entries come from this
machine's ``<checkpoint_dir>/registry.json`` (written by :mod:`dlic_lib.train` when a run is
released) and from the ``checkpoints:`` list of the data manifest (the book's released files).

Public API::

    from dlic_lib import zoo

    zoo.register(zoo.ZooEntry(architecture="bls2017", task="proxiqa", objective="vmaf-proxy",
                              rate_key={"lmbda": 0.01}, path=path, sha256="", build={"N": 128}))
    zoo.entries("bmshj2018-factorized", objective="mse")         # every match
    entry = zoo.find("bmshj2018-factorized", objective="mse", rate_key={"quality": 3})  # best or None
    entry = zoo.resolve("bmshj2018-factorized", objective="mse", rate_key={"quality": 3})
    path = zoo.verify(entry)                                     # sha256 checked
    net = zoo.load_model(entry)                                  # built by name, weights loaded, eval()
    net, label, entry = zoo.resolve_model("mbt2018-mean", objective="mse", rate_key={"quality": 2})

:func:`resolve` raises :class:`MissingWeightsError`, one sentence naming the ``dlic train`` command that
creates the missing entry (commands per task in :data:`TRAIN_COMMANDS`). :func:`resolve_model`
first tries CompressAI's pretrained weights (downloaded when ``DLIC_OFFLINE`` is not set). The zoo
depends on :mod:`dlic_lib.models`, never on :mod:`dlic_lib.train`.
"""

from .registry import REGISTRY_FORMAT, ZooEntry, entries, find, register, registry_path
from .resolve import (
    RELEASE_FORMAT,
    TRAIN_COMMANDS,
    MissingWeightsError,
    load_model,
    load_release,
    missing_message,
    model_from_release,
    pretrained_model,
    resolve,
    resolve_model,
    verify,
)

__all__ = [
    "ZooEntry", "register", "entries", "find", "resolve", "verify", "load_release", "load_model", "model_from_release",
    "pretrained_model", "resolve_model", "missing_message", "MissingWeightsError", "TRAIN_COMMANDS", "registry_path", "REGISTRY_FORMAT",
    "RELEASE_FORMAT",
]
