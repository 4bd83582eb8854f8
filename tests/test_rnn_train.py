"""Training the recursive codec as an engine Task: loss, release into the zoo, resumption after SIGKILL."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from PIL import Image

from dlic_lib import zoo
from dlic_lib.codecs.rnn import RnnCodec
from dlic_lib.errors import DlicError
from dlic_lib.train.task import Trainer
from dlic_lib.train.tasks.recurrent import PRESETS, RecurrentSettings, RecurrentTask, train_recurrent


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory, mirror_dir):
    """Six Commons photos shrunk to 192×128 (a folder without a split: the last one becomes validation)."""
    folder = tmp_path_factory.mktemp("photos")
    for path in sorted((mirror_dir / "wikimedia-photos").glob("*.png"))[:6]:
        Image.open(path).convert("RGB").resize((192, 128), Image.Resampling.BICUBIC).save(folder / path.name)
    return folder


def _settings(folder, **kw):
    base = dict(width=0.125, iterations=2, steps=6, batch=4, val_every=3, val_patches=8, profile="smoke",
                data=str(folder))
    return RecurrentSettings(**{**base, **kw})


def test_presets_and_bad_settings():
    assert PRESETS["quick"].width == 0.25 and PRESETS["full"].width == 1.0 and PRESETS["full"].iterations == 16
    with pytest.raises(DlicError, match="positive integer"):
        RecurrentSettings(iterations=0)
    with pytest.raises(DlicError, match="unknown recurrent training setting"):
        RecurrentTask("quick", depth=3)
    with pytest.raises(DlicError, match="unknown recurrent training profile"):
        RecurrentTask("huge")


def test_short_run_releases_a_codec_in_the_zoo(photo_folder, kodim_crop):
    result = train_recurrent(_settings(photo_folder))
    assert result.finished and result.step == 6
    log = result.log
    assert {"loss", "val_psnr_k1", "val_psnr_k2"} <= set(log.columns) and np.isfinite(log["loss"].dropna()).all()
    entry = zoo.find("toderici2017-rnn", task="recurrent", objective="l1", profile="smoke")
    assert entry is not None and entry.rate_key == {"iterations": 2}
    assert entry.build == {"width": 0.125, "bits": 32, "iterations": 2}
    codec = RnnCodec(profile="smoke")
    coded = codec.encode(kodim_crop[:64, :64], 2, use_cache=False)
    assert coded.weights.startswith("dlic-checkpoint:") and coded.decoded.shape == (64, 64, 3)


def test_killed_run_resumes_to_the_uninterrupted_weights(photo_folder, tmp_path, monkeypatch):
    settings = _settings(photo_folder, steps=4, val_every=4)
    whole = Trainer(RecurrentTask(settings), progress=False, register=False, runs_dir=tmp_path / "a").fit()
    script = textwrap.dedent(f"""
        import os, signal
        from dlic_lib.train.task import Trainer
        from dlic_lib.train.tasks.recurrent import RecurrentSettings, RecurrentTask

        class Killed(RecurrentTask):
            ckpt_every = 2

            def train_step(self, batch, trainer):
                if trainer.step == 3:  # inside step 4, after the state of step 2 was saved
                    os.kill(os.getpid(), signal.SIGKILL)
                return super().train_step(batch, trainer)

        s = RecurrentSettings(**{dict(vars(settings))!r})
        Trainer(Killed(s), progress=False, register=False, runs_dir={str(tmp_path / "b")!r}, device="cpu").fit()
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=os.environ)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    run_dir = tmp_path / "b" / whole.run_dir.name
    assert torch.load(run_dir / "state.pt", weights_only=False)["step"] == 2
    rest = Trainer(RecurrentTask(settings), progress=False, register=False, runs_dir=tmp_path / "b").fit()
    assert rest.finished and rest.step == 4
    a = torch.load(whole.run_dir / "release.pt", weights_only=True)["state_dict"]
    b = torch.load(rest.run_dir / "release.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
