"""Training of the intra autoencoders as an engine task: batches, a short run, release in the zoo, resumption."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dlic_lib import zoo
from dlic_lib.errors import DlicError
from dlic_lib.intra.context import block_neighbours, image_blocks
from dlic_lib.train.tasks.intra import IntraAESettings, IntraAETask, batch_tensors, train_intra_ae


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory, mirror_dir):
    """Six Commons photos shrunk to 192×128 (a folder without a split: the last one becomes validation)."""
    folder = tmp_path_factory.mktemp("photos")
    for path in sorted((mirror_dir / "wikimedia-photos").glob("*.png"))[:6]:
        image = Image.open(path).convert("RGB")
        image.resize((192, 128), Image.Resampling.BICUBIC).save(folder / path.name)
    return folder


def test_batches_hold_context_and_target():
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (2, 96, 96, 3), dtype=np.uint8)
    x, target = batch_tensors(crops, "intra-ae1")
    assert x.shape == (2, 3, 64, 64) and target.shape == (2, 3, 32, 32)
    torch.testing.assert_close(target, x[:, :, 32:, 32:])
    nb, target2 = batch_tensors(crops, "intra-ae2")
    assert nb.shape == (2, 4, 3, 32, 32)
    expected = block_neighbours(crops[0, :64, :96], 32)[4]  # block (1, 1) of the 64×96 crop
    np.testing.assert_allclose(nb[0].permute(0, 2, 3, 1).numpy() * 255, expected, atol=1e-4)
    np.testing.assert_allclose(target2[0].permute(1, 2, 0).numpy() * 255, image_blocks(crops[0, :64, :96], 32)[4], atol=1e-4)


def test_settings_are_checked():
    with pytest.raises(DlicError, match="must be one of"):
        IntraAESettings(architecture="intra-ae9")
    with pytest.raises(DlicError, match="unknown"):
        IntraAETask(IntraAESettings(), stepz=3)
    with pytest.raises(DlicError, match="Kodak"):
        IntraAETask(IntraAESettings(data="kodak")).setup(None)


@pytest.mark.parametrize("architecture", ["intra-ae1", "intra-ae2"])
def test_short_run_registers_and_reloads(photo_folder, architecture):
    settings = IntraAESettings(architecture=architecture, width=0.125, steps=4, batch=2, data=str(photo_folder),
                               val_every=2, val_patches=2, profile="smoke")
    result = train_intra_ae(settings)
    assert result.finished and result.step == 4
    assert set(result.log["split"]) == {"train", "val"} and np.isfinite(result.log["loss"].dropna()).all()
    entry = zoo.find(architecture, task="intra", objective="mse", profile="smoke")
    assert entry is not None and entry.build == {"width": 0.125}
    net = zoo.load_model(entry)
    shape = (1, 3, 64, 64) if architecture == "intra-ae1" else (1, 4, 3, 32, 32)
    assert net(torch.rand(shape)).shape == (1, 3, 32, 32)
    again = train_intra_ae(settings)  # finished: found, not retrained
    assert again.finished and again.step == 4


def test_resumed_run_equals_uninterrupted(photo_folder, tmp_path):
    settings = IntraAESettings(width=0.125, steps=4, batch=2, data=str(photo_folder), val_every=4, val_patches=2,
                               profile="smoke", seed=3)
    from dlic_lib.train.task import Trainer

    whole = Trainer(IntraAETask(settings), progress=False, register=False, runs_dir=tmp_path / "a").fit()
    part = Trainer(IntraAETask(settings), progress=False, register=False, runs_dir=tmp_path / "b")
    assert not part.fit(max_steps_this_run=2).finished
    rest = Trainer(IntraAETask(settings), progress=False, register=False, runs_dir=tmp_path / "b").fit()
    a = torch.load(whole.run_dir / "release.pt", weights_only=True)["state_dict"]
    b = torch.load(rest.run_dir / "release.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
