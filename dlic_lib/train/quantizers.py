"""How latents are quantised during training: additive uniform noise, or "mixed" noise + rounding.

CompressAI's models train with uniform noise everywhere (Ballé et al.): the rate is the likelihood of
``y + u`` and the synthesis transform also decodes ``y + u``, while at test time it decodes
``round(y)``. ``"mixed"`` (Minnen & Singh, ICIP 2020) keeps the noisy rate term but feeds the
synthesis transforms the rounded latents that the real decoder sees, with a straight-through
gradient, removing that train/test mismatch of the decoder.

Measured with the ``quick`` factorized model at λ=0.0018 (5000 steps, float32, one thread each, same
seed), Kodak on real bitstreams: noise 0.147 bpp → 26.22 dB PSNR-Y, mixed 0.168 bpp → 26.45 dB, about
+0.06 dB along the noise model's RD slope: within the run-to-run spread, so ``noise`` stays the default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import DlicError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["QUANTIZERS", "check_quantizer", "ste_round", "mixed_forward"]

QUANTIZERS: tuple[str, ...] = ("noise", "mixed")
#: models whose forward pass :func:`mixed_forward` reproduces (no autoregressive context model)
_MIXED_MODELS = ("FactorizedPrior", "ScaleHyperprior", "MeanScaleHyperprior")


def check_quantizer(quantizer: str, model_class: str | None = None) -> str:
    """``quantizer`` if known (and, for ``"mixed"``, supported by ``model_class``); else a clear error."""
    if quantizer not in QUANTIZERS:
        raise DlicError(f"unknown quantizer {quantizer!r}; expected one of {', '.join(QUANTIZERS)}")
    if quantizer == "mixed" and model_class is not None and model_class not in _MIXED_MODELS:
        raise DlicError(f"the mixed quantizer supports bmshj2018-factorized, bmshj2018-hyperprior and mbt2018-mean, "
                        f"not {model_class} (its autoregressive context needs noise)")
    return quantizer


def ste_round(x: "torch.Tensor", offset: "torch.Tensor | None" = None) -> "torch.Tensor":
    """``round(x − offset) + offset`` in the forward pass, identity gradient in the backward pass."""
    centred = x if offset is None else x - offset
    rounded = centred + (centred.round() - centred).detach()
    return rounded if offset is None else rounded + offset


def mixed_forward(net, x: "torch.Tensor") -> dict:
    """The training forward pass of a CompressAI ``net`` with mixed quantisation.

    Likelihoods (the rate term) come from the entropy models' noisy latents, exactly as
    ``net(x)``; the synthesis transforms decode latents rounded as ``compress``/``decompress`` round
    them (around the entropy bottleneck's medians, around the predicted means).
    """
    kind = type(net).__name__
    check_quantizer("mixed", kind)
    y = net.g_a(x)
    if kind == "FactorizedPrior":
        _, y_likelihoods = net.entropy_bottleneck(y)
        y_hat = ste_round(y, net.entropy_bottleneck._get_medians().detach().reshape(1, -1, 1, 1))
        return {"x_hat": net.g_s(y_hat), "likelihoods": {"y": y_likelihoods}}
    z = net.h_a(y.abs() if kind == "ScaleHyperprior" else y)
    _, z_likelihoods = net.entropy_bottleneck(z)
    z_hat = ste_round(z, net.entropy_bottleneck._get_medians().detach().reshape(1, -1, 1, 1))
    params = net.h_s(z_hat)
    if kind == "ScaleHyperprior":
        scales, means = params, None
    else:
        scales, means = params.chunk(2, 1)
    _, y_likelihoods = net.gaussian_conditional(y, scales, means=means)
    y_hat = ste_round(y, means)
    return {"x_hat": net.g_s(y_hat), "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}
