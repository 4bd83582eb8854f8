"""VAE codecs of seed 003: parameter counts, rANS latents, closed-loop intra variants decoded bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlic_lib.errors import DlicError
from dlic_lib.models import build_model
from dlic_lib.models.vae_intra import table_weight_count


def test_full_size_parameter_counts_match_tables_4_3_and_4_4():
    assert table_weight_count(build_model("jung2021-vae", N=128)) == 1_766_144
    assert table_weight_count(build_model("jung2021-embedded-intra", N=128)) == 1_686_400


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    return {"vae": build_model("jung2021-vae", N=16), "ae1": build_model("intra-ae1", width=0.125),
            "predictor": build_model("jung2021-embedded-intra", N=16)}


@pytest.fixture(scope="module")
def image(kodim01):
    return np.ascontiguousarray(kodim01[100:150, 200:270])  # 50×70


@pytest.mark.parametrize("variant, patch", [("vae", 0), ("vae", 32), ("vae-intra-ae", 32), ("vae-embedded", 32)])
def test_decoding_reproduces_the_encoder_and_the_latents_are_one_rans_string(nets, image, variant, patch):
    from dlic_lib.codecs import get_codec

    codec = get_codec(variant, patch=patch, **nets)
    canvas, data = codec.encode_patches(image, 0.01)
    decoded = codec.decode(data)
    assert decoded.shape == image.shape and np.array_equal(decoded, canvas[:50, :70])
    result = codec.encode(image, 0.01, use_cache=False)
    assert result.bpp == pytest.approx(8 * len(data) / (50 * 70)) and np.array_equal(result.decoded, decoded)
    # one string: its length is everything after the 18-byte header, and it decodes only as a whole
    with pytest.raises(DlicError):
        codec.decode(data[:17])


def test_files_of_other_codecs_sizes_or_weights_are_refused(nets, image):
    from dlic_lib.codecs.vae_intra import VaeIntraCodec

    _, data = VaeIntraCodec("vae-embedded", **nets).encode_patches(image, 0.01)
    with pytest.raises(DlicError, match="written by vae-embedded"):
        VaeIntraCodec("vae", **nets).decode(data)
    with pytest.raises(DlicError, match="patch size"):
        VaeIntraCodec("vae-embedded", patch=64, **nets).decode(data)
    other = dict(nets, predictor=build_model("jung2021-embedded-intra", N=16))
    with pytest.raises(DlicError, match="weights"):
        VaeIntraCodec("vae-embedded", **other).decode(data)
    with pytest.raises(DlicError):
        VaeIntraCodec("vae-intra-ae", patch=64)
    with pytest.raises(DlicError, match="lmbda"):
        VaeIntraCodec("vae", **nets).encode(image, 0.02)
