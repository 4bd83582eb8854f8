"""The recursive ConvLSTM codec applied to the residual of a prediction, with exact reconstructions.

A patch ``x`` (8-bit) with prediction ``p`` (``base = 2p``, see :mod:`.predictors`) is coded by
iterating the network of :mod:`dlic_lib.models.recurrent` on the residual ``x/255 − p/255``: the
float encoder produces ±1 codes, the fixed-point twin of the decoder
(:class:`~dlic_lib.codecs.rnn_exact.ExactDecoder`) turns them into corrections ``t`` on the grid
``2^−(A+1)``, and the reconstruction after ``k`` iterations is the exact integer

    v = ⌊(base·2^A + 255·t + 2^A) / 2^(A+1)⌋ clipped to [0, 255],

i.e. ``round(p + 255·Σ out_i)``. The encoder forms its residuals from the same ``t``, so a decoder
holding the codes reproduces every reconstruction bit for bit (with "none", ``base = 255``: the
baseline codec, which codes ``x − 0.5``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["ResidualCoder"]

ACT_BITS = 14  #: fractional bits of the fixed-point decoder's activations (checked against it below)
_A1 = ACT_BITS + 1


def _reconstruct(base: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    """Exact 8-bit reconstruction (int64) of ``base`` (int64) plus the summed corrections ``total`` (float64 integers)."""
    t = total.to(torch.int64)
    v = (base * (1 << ACT_BITS) + 255 * t + (1 << ACT_BITS)) >> _A1
    return v.clamp_(0, 255)


class ResidualCoder:
    """Encoder and exact decoder of one recursive network (a :class:`~dlic_lib.models.recurrent.RecurrentCodec`)."""

    def __init__(self, model: Any, device: str = "cpu") -> None:
        self.model = model.eval().to(device)
        self.device = device
        from ..codecs import rnn_exact  # imported here: the codecs package imports this module's users

        if rnn_exact.ACT_BITS != ACT_BITS:
            raise RuntimeError("the fixed-point decoder's activation grid changed")
        self.exact = rnn_exact.ExactDecoder(model.decoder, device)
        self.bits = int(model.bits)

    def encode(self, x: np.ndarray, base: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Code patches ``x`` (N, 3, 32, 32) uint8 with predictions ``base`` (N, 3, 32, 32) for ``k`` iterations.

        Returns the codes (N, k, bits, 2, 2) as 0/1 uint8, the reconstruction after every iteration
        (N, k, 3, 32, 32) uint8 and its MSE per patch (N, k) on the 0–255 scale.
        """
        dev = self.device
        xt = torch.from_numpy(np.ascontiguousarray(x)).to(dev, torch.int64)
        bt = torch.from_numpy(np.ascontiguousarray(base)).to(dev, torch.int64)
        target = (xt.double() - bt.double() / 2) / 255.0
        r = target.float()
        codes, recons, errors = [], [], []
        with torch.no_grad():
            enc_state = self.model.encoder.init_state(r)
            dec_state = self.exact.init_state(x.shape[0], 2, 2)
            total = torch.zeros_like(target)
            for _ in range(k):
                code, enc_state = self.model.encoder(r, enc_state)
                b = torch.where(code >= 0, 1.0, -1.0)
                out, dec_state = self.exact.step(b, dec_state)
                total += out
                r = (target - total * 2.0 ** -_A1).float()
                v = _reconstruct(bt, total)
                codes.append((b > 0).to(torch.uint8).cpu())
                recons.append(v.to(torch.uint8).cpu())
                errors.append(((v - xt).double() ** 2).mean(dim=(1, 2, 3)).cpu())
        return (torch.stack(codes, 1).numpy(), torch.stack(recons, 1).numpy(), torch.stack(errors, 1).numpy())

    def decode(self, codes: np.ndarray, counts: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Reconstruction (N, 3, 32, 32) uint8 from codes (N, K, bits, 2, 2) 0/1 of which patch ``i`` uses ``counts[i]``."""
        dev = self.device
        n = codes.shape[0]
        bt = torch.from_numpy(np.ascontiguousarray(base)).to(dev, torch.int64)
        counts_t = torch.from_numpy(np.asarray(counts)).to(dev)
        with torch.no_grad():
            state = self.exact.init_state(n, 2, 2)
            total = torch.zeros(n, 3, 32, 32, dtype=torch.float64, device=dev)
            for i in range(int(np.max(counts)) if n else 0):
                b = torch.from_numpy(codes[:, i].astype(np.float32) * 2 - 1).to(dev)
                out, state = self.exact.step(b, state)
                total += out * (i < counts_t).to(torch.float64)[:, None, None, None]
            return _reconstruct(bt, total).to(torch.uint8).cpu().numpy()
