"""Every network of the book, one registry (``@register_model``), one module per family.

Importing this package registers every family. Models never import training code.
"""

from .registry import MODELS, build_model, get_model_builder, model_names, param_count, register_model
from . import compressai_models  # noqa: F401  (CompressAI architectures, their zoo sizes and λ)
from . import recurrent  # noqa: F401  (recursive ConvLSTM codec, Toderici 2017 / seed 003 Table 4.2)
from . import bls2017, proxiqa  # noqa: F401  (ProxIQA chapter: BLS codec, proxy network)
from . import intra_ae, vae_intra  # noqa: F401  (intra prediction AEs, seed 003 Tables 4.1, 4.3, 4.4)
from . import jpeg_cnn  # noqa: F401  (CNN-CR, CNN-SR, CNN-FakeCodec around JPEG, seed 001)

__all__ = ["MODELS", "register_model", "model_names", "get_model_builder", "build_model", "param_count"]
