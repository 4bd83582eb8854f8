"""Datasets named by ``data_manifest.yaml`` and image I/O.

Resolution order for a dataset: user cache (``DLIC_DATA_DIR``) → mirror folders
(``DLIC_DATA_MIRROR``) → download from the canonical URLs → embedded default (images that ship
inside an installed package, flagged ``embedded=True`` wherever they are used). Every file is
checked against the manifest's sha256.
"""

from .images import as_rgb_uint8, read_image, sha256_array, sha256_file, write_png
from .prepare import fit_to_grid, prepare_images
from .manifest import DatasetSpec, FileSpec, Manifest, load_manifest
from .resolve import ResolvedDataset, resolve_dataset, resolve_optional, verify_dataset

__all__ = [
    "DatasetSpec",
    "FileSpec",
    "Manifest",
    "ResolvedDataset",
    "as_rgb_uint8",
    "fit_to_grid",
    "load_manifest",
    "prepare_images",
    "read_image",
    "resolve_dataset",
    "resolve_optional",
    "sha256_array",
    "sha256_file",
    "verify_dataset",
    "write_png",
]
