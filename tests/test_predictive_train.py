"""Training of the predictive codecs' networks as engine tasks: exact resumption, releases the codecs find."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dlic_lib.errors import DlicError
from dlic_lib.train.tasks.predictive import ResidualRnnTask, VaeTask, least_energy_predictions, train


@pytest.fixture()
def intra_aes():
    from dlic_lib.train.tasks.intra import IntraAESettings, train_intra_ae

    for arch in ("intra-ae1", "intra-ae2"):
        train_intra_ae(IntraAESettings(architecture=arch, width=0.125, steps=1, batch=2, val_every=1, val_patches=2,
                                       max_side=256))


def test_multi_mode_training_targets_use_the_least_energy_prediction(intra_aes):
    from dlic_lib import zoo

    ae1, ae2 = (zoo.load_model(zoo.find(a, profile="quick")) for a in ("intra-ae1", "intra-ae2"))
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (3, 64, 96, 3), dtype=np.uint8)
    crops[0] = 128  # flat: "none" and DC are exact
    target, pred = least_energy_predictions(crops, "multi", ae1, ae2)
    assert target.shape == pred.shape == (3, 3, 32, 32)
    for kind in ("none", "single"):
        _, other = least_energy_predictions(crops, kind, ae1, ae2)
        assert ((target - pred) ** 2).sum(dim=(1, 2, 3)).le(((target - other) ** 2).sum(dim=(1, 2, 3)) + 1e-9).all()
    assert torch.allclose(pred[0], target[0], atol=1 / 255)


def test_residual_network_resumes_exactly_and_the_codec_finds_its_release(intra_aes, kodim01):
    from dlic_lib.codecs import get_codec

    settings = dict(kind="single", width=0.125, iterations=2, steps=4, batch=2)
    first = train(ResidualRnnTask(**settings), max_steps_this_run=2)  # a run stopped half-way
    assert not first.finished and first.step == 2
    resumed = train(ResidualRnnTask(**settings))
    assert resumed.finished and resumed.step == 4
    straight = train(ResidualRnnTask(**settings, seed=0), restart=True)
    a = torch.load(resumed.entry.path, weights_only=True)["state_dict"]
    b = torch.load(straight.entry.path, weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    codec = get_codec("rnn-single")
    assert codec.available() == (True, "")
    image = np.ascontiguousarray(kodim01[:32, :64])
    coded, data = codec.encode_patches(image, 1)
    assert np.array_equal(codec.decode(data), coded.reconstruction)
    with pytest.raises(DlicError):
        ResidualRnnTask(kind="double")


@pytest.mark.parametrize("kind", ["vae", "embedded"])
def test_vae_tasks_release_what_the_vae_codecs_load(kind, kodim01):
    from dlic_lib.codecs import get_codec

    result = train(VaeTask(kind=kind, N=8, patch=32, lmbda=0.01, steps=2, batch=2))
    assert result.finished and np.isfinite(result.log["loss"]).all()
    codec = get_codec("vae" if kind == "vae" else "vae-embedded", **({"patch": 32} if kind == "vae" else {}))
    image = np.ascontiguousarray(kodim01[:64, :64])
    canvas, data = codec.encode_patches(image, 0.01)
    assert np.array_equal(codec.decode(data), canvas)


def test_vae_learning_rate_falls_tenfold_at_its_decay_marks_and_resumes_exactly(tmp_path, monkeypatch):
    from dlic_lib.train.tasks.predictive import VaeSettings

    plain = VaeTask(kind="vae", N=8, patch=32, lmbda=0.01, steps=4, batch=2)
    assert "lr_decay_at" not in plain.config()  # runs made before the schedule keep their ids
    with pytest.raises(DlicError, match="lr_decay_at"):
        VaeSettings(lr_decay_at=(1.0,))
    decayed = dict(kind="vae", N=8, patch=32, lmbda=0.01, steps=4, batch=2, lr=1e-3, lr_decay_at=[0.5])
    assert VaeTask(**decayed).config()["lr_decay_at"] == [0.5]
    lrs = []
    real_step = VaeTask.train_step

    def record(self, batch, trainer):
        lrs.append(trainer.optimizers["adam"].param_groups[0]["lr"])
        return real_step(self, batch, trainer)

    monkeypatch.setattr(VaeTask, "train_step", record)
    whole = train(VaeTask(**decayed))
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4])
    # stopped after step 2 and resumed: the schedule continues, the weights are those of the uninterrupted run
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "again"))
    lrs.clear()
    assert not train(VaeTask(**decayed), max_steps_this_run=2).finished
    again = train(VaeTask(**decayed))
    assert again.finished and lrs == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4])
    a, b = torch.load(whole.entry.path, weights_only=False), torch.load(again.entry.path, weights_only=False)
    assert a["state_dict"].keys() == b["state_dict"].keys()
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])


def test_a_warm_started_run_is_found_again_after_its_data_folder_moved(tmp_path, monkeypatch):
    import shutil

    from dlic_lib.config import checkpoint_dir

    plain = train(VaeTask(kind="vae", N=8, patch=32, lmbda=0.01, steps=2, batch=2))
    start = str(plain.entry.path)
    tuned = train(VaeTask(kind="embedded", N=8, patch=32, lmbda=0.01, steps=2, batch=2, warm_start=start))
    old = checkpoint_dir()
    moved = tmp_path / "moved"
    shutil.copytree(old, moved)
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(moved))
    new_start = str(moved / plain.entry.path.relative_to(old))
    shutil.rmtree(old)
    task = VaeTask(kind="embedded", N=8, patch=32, lmbda=0.01, steps=2, batch=2, warm_start=new_start)
    assert task.run_id() == tuned.run_dir.name
    again = train(task, max_steps_this_run=0)  # found finished in the moved folder: nothing trains
    assert again.finished and again.step == 2 and again.run_dir == moved / "runs" / tuned.run_dir.name
    # other starting weights: another run
    other = tmp_path / "other.pt"
    other.write_bytes(b"x" + Path(new_start).read_bytes())
    assert VaeTask(kind="embedded", N=8, patch=32, lmbda=0.01, steps=2, batch=2, warm_start=str(other)).run_id() != task.run_id()
