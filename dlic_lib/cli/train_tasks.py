"""``dlic train --task NAME``: train the networks of one chapter's family at a profile, as the chapter does.

Each family is trained by the same function its chapter calls (finished runs are found in the zoo and
not trained again; unfinished ones resume), so the command and the book always make the same releases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["TASKS", "train_task"]


def _recurrent(profile: str, progress: bool) -> Any:
    from ..train.tasks.recurrent import train_recurrent

    return train_recurrent(profile, progress=progress)


def _intra(profile: str, progress: bool) -> Any:
    from ..studies.intra_prediction import chapter_settings, intra_models

    return intra_models(chapter_settings(profile), train_missing=True)


def _jpeg_cnn(profile: str, progress: bool) -> Any:
    from ..studies.cnn_jpeg import chapter_settings, train_all

    return train_all(chapter_settings(profile), progress=progress)


def _predictive(profile: str, progress: bool) -> Any:
    from ..studies.predictive_codecs import chapter_settings, networks

    return networks(chapter_settings(profile))


def _proxiqa(profile: str, progress: bool) -> Any:
    from ..studies.proxiqa import settings, train_all

    return train_all(settings(profile), progress=progress)


#: task name → (what it trains, trainer)
TASKS: dict[str, tuple[str, Callable[[str, bool], Any]]] = {
    "recurrent": ("the recursive ConvLSTM codec (seed 003 Table 4.2; RNN-C, Toderici 2017)", _recurrent),
    "intra": ("the intra-prediction autoencoders AE1 and AE2 (chapter 4)", _intra),
    "jpeg-cnn": ("the CNNs around JPEG: FakeCodecs, CNN-YL, CNN-RD/RDv2/MSE (chapter 3)", _jpeg_cnn),
    "predictive": ("the predictive recursive and VAE codecs (chapter 5)", _predictive),
    "proxiqa": ("BLS and the ProxIQA proxy, MSE ladder and VMAF_p rungs (chapter 6)", _proxiqa),
}


def train_task(name: str, profile: str, progress: bool = True) -> Any:
    """Train family ``name`` at ``profile``; returns what the family's trainer returns."""
    return TASKS[name][1](profile, progress)
