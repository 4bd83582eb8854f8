"""Training data: manifest splits, folder splits, Kodak refusal, and the seeded, resumable crop stream."""

import numpy as np
import pytest
from PIL import Image

from dlic_lib.errors import DlicError
from dlic_lib.train.crops import CropSampler, ImagePool, center_crops
from dlic_lib.train.sources import training_data


def _coded_images(n=3, h=96, w=128):
    """Images whose pixels encode (image, row, column), so a crop's origin can be read back."""
    images = []
    for k in range(n):
        yy, xx = np.mgrid[0:h, 0:w]
        images.append(np.stack([np.full((h, w), k), yy, xx], axis=2).astype(np.uint8))
    return images


def test_unscaled_crops_are_exact_windows_of_the_images():
    pool = ImagePool(_coded_images())
    batch = CropSampler(pool, crop=32, batch=16, seed=3).next_batch()
    assert batch.shape == (16, 32, 32, 3) and batch.dtype == np.uint8
    for crop in batch:
        k, y, x = (int(v) for v in crop[0, 0])
        np.testing.assert_array_equal(crop, pool.images[k][y : y + 32, x : x + 32])


def test_scaled_crops_are_resized_windows():
    pool = ImagePool(_coded_images(1, 128, 128))
    batch = CropSampler(pool, crop=32, batch=8, scale_range=(2.0, 2.0), seed=0).next_batch()
    # a 64-pixel window shrunk to 32: neighbouring columns are ~2 apart in the coded column channel
    steps = np.diff(batch[:, 16, :, 2].astype(int), axis=1)
    assert np.median(steps) == 2


def test_stream_is_seeded_and_resumable():
    pool = ImagePool(_coded_images())
    a = CropSampler(pool, 32, 4, (1.0, 1.5), seed=7)
    first = [a.next_batch() for _ in range(3)]
    state = a.state_dict()
    rest = [a.next_batch() for _ in range(2)]

    b = CropSampler(pool, 32, 4, (1.0, 1.5), seed=7)
    for want in first:
        np.testing.assert_array_equal(b.next_batch(), want)
    c = CropSampler(pool, 32, 4, (1.0, 1.5), seed=99, prefetch=True)
    c.load_state_dict(state)
    for want in rest:
        np.testing.assert_array_equal(c.next_batch(), want)
    c.close()
    assert not np.array_equal(CropSampler(pool, 32, 4, seed=8).next_batch(), first[0])


def test_prefetching_gives_the_same_stream_and_state():
    pool = ImagePool(_coded_images())
    plain, pre = CropSampler(pool, 32, 2, seed=1), CropSampler(pool, 32, 2, seed=1, prefetch=True)
    for _ in range(4):
        np.testing.assert_array_equal(plain.next_batch(), pre.next_batch())
    assert plain.state_dict() == pre.state_dict()
    pre.close()


def test_center_crops():
    pool = ImagePool(_coded_images(2, 96, 128))
    crops = center_crops(pool, 64)
    assert [c.shape for c in crops] == [(64, 64, 3)] * 2
    assert tuple(crops[0][0, 0]) == (0, 16, 32)


@pytest.mark.parametrize(
    "kwargs", [dict(crop=8, batch=1), dict(crop=32, batch=0), dict(crop=32, batch=1, scale_range=(0.5, 1.0)), dict(crop=128, batch=1)]
)
def test_bad_sampler_settings(kwargs):
    with pytest.raises(DlicError):
        CropSampler(ImagePool(_coded_images()), **kwargs)


def test_manifest_dataset_uses_its_train_and_val_splits():
    data = training_data("wikimedia-photos")
    assert data.train and data.val
    assert not set(data.train) & set(data.val)
    assert data.provenance["dataset"] == "wikimedia-photos"
    if data.provenance["split"] == "manifest":
        from dlic_lib.data import resolve_dataset

        test = set(resolve_dataset("wikimedia-photos").files(split="test"))
        assert not test & set(data.train)


def test_folder_split_gives_every_tenth_file_to_validation(tmp_path):
    for i in range(12):
        Image.fromarray(np.full((20, 20, 3), i, np.uint8)).save(tmp_path / f"img{i:02d}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    data = training_data(tmp_path)
    assert [p.name for p in data.val] == ["img09.png"]
    assert len(data.train) == 11
    explicit = training_data(tmp_path, val=[tmp_path / "img00.png"])
    assert explicit.val == [tmp_path / "img00.png"] and tmp_path / "img00.png" not in explicit.train


def test_kodak_is_refused(kodak_dir, tmp_path):
    with pytest.raises(DlicError, match="Kodak"):
        training_data(kodak_dir)
    with pytest.raises(DlicError, match="Kodak"):
        training_data("kodak")
    with pytest.raises(DlicError, match="Kodak"):
        training_data([kodak_dir / "kodim01.png", kodak_dir / "kodim02.png"])
    with pytest.raises(DlicError, match="Kodak"):
        ImagePool.load([kodak_dir / "kodim03.png"])


def test_missing_or_empty_data_is_a_clear_error(tmp_path):
    with pytest.raises(DlicError, match="not found"):
        training_data(tmp_path / "nope")
    with pytest.raises(DlicError, match="no image files"):
        training_data(tmp_path)
    with pytest.raises(DlicError, match="not found"):
        training_data([tmp_path / "a.png"])
    with pytest.raises(DlicError):
        training_data("no-such-dataset")
