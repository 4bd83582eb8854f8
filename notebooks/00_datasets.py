# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The datasets of the book
#
# Every experiment in this book runs on datasets named in `data_manifest.yaml`, each file with its
# canonical URL and sha256. A dataset is taken from the user cache, then from a mirror folder, then
# downloaded; when none of these is reachable (a fresh offline machine) a small **embedded default**
# (sample images that ship inside scikit-image) stands in, and every table and figure says so.
#
# * **Kodak** (24 images, 768×512): the test set of nearly every learned-compression paper, used by
#   seeds 000 and 004. Never used for training here.
# * **Wikimedia Commons photographs** (49 images, 0.9–1.3 MP): the training pool of the book's own
#   networks (`train`/`val` splits) and a high-resolution test split standing in for the JPEG AI test
#   set of seed 000 (which is not redistributable; the manifest lists it for users who have it).
# * **Subjective datasets** with real opinion scores: the T-Labs image quality test (raw 21-observer
#   ACR scores), Netflix's public raw scores (with 4 known outlier voters) and JPEG AIC-4 (JND scale).

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | full
max_images = None  # images per dataset for the statistics (None: from the profile)
max_side = None  # longest side for the statistics (None: from the profile)

# %%
import pandas as pd

from dlic_lib import plots
from dlic_lib.config import results_dir
from dlic_lib.data import load_manifest, resolve_dataset, resolve_optional
from dlic_lib.data.describe import describe_images
from dlic_lib.profiles import get_profile
from dlic_lib.provenance import provenance_table
from IPython.display import HTML, display

P = get_profile(profile, max_images=max_images, max_side=max_side)
manifest = load_manifest()
kodak = resolve_dataset("kodak")
photos = resolve_dataset("wikimedia-photos")
subjective = {name: resolve_optional(name) for name in ("tlabs-image-quality", "nflx-public", "jpeg-aic4")}
provenance_table(P, [kodak, photos, *(d for d in subjective.values() if d is not None)])

# %% [markdown]
# ## What the manifest holds

# %%
pd.DataFrame(
    [
        {"dataset": name, "title": spec.title, "kind": spec.kind, "files": len(spec.files), "role": spec.role, "license": spec.license}
        for name, spec in manifest.datasets.items()
    ]
)

# %% [markdown]
# ## Kodak

# %%
if kodak.embedded:
    display(HTML("<p><b>⚠ Embedded default:</b> Kodak was not reachable; scikit-image sample images stand in.</p>"))
display(HTML(plots.thumbnails_html(kodak.images())))

# %% [markdown]
# ## Commons photographs: the high-resolution test split
# Each photo's author and license are on its Commons page (`ATTRIBUTION` in the manifest).

# %%
display(HTML(plots.thumbnails_html(photos.images("test"))))
split_sizes = {split: len(photos.files(split)) for split in photos.splits}
split_sizes

# %% [markdown]
# ## Image statistics
# Spatial information (ITU-T P.910, on BT.601 luma) and colourfulness (Hasler & Süsstrunk) place
# the test images on the two axes that most affect how hard they are to compress.

# %%
def _stats(ds, split=None):
    paths = ds.images(split)[: P.max_images] if P.max_images else ds.images(split)
    table = describe_images(paths, max_side=P.max_side)
    table.insert(0, "split", split or "all")
    table.insert(0, "dataset", ds.name + (" (embedded default)" if ds.embedded else ""))
    return table


stats = pd.concat([_stats(kodak)] + [_stats(photos, s) for s in ("train", "val", "test")], ignore_index=True)
stats["profile"] = P.name
out = results_dir() / "00_datasets"
out.mkdir(parents=True, exist_ok=True)
stats.to_csv(out / "image_statistics.csv", index=False)
stats.groupby(["dataset", "split"])[["megapixels", "si", "colorfulness"]].mean().round(2)

# %%
stats["set"] = stats["dataset"] + " / " + stats["split"]
fig = plots.scatter(
    stats, x="si", y="colorfulness", color="set", hover=["image", "width", "height"],
    title="Spatial information vs colourfulness of the test and training images",
    labels={"si": "spatial information (P.910)", "colorfulness": "colourfulness (M3)"},
)
plots.show(fig)

# %% [markdown]
# ## Subjective datasets

# %%
pd.DataFrame(
    [
        {"dataset": name, "files": len(ds.paths), "source": ds.source.split(":", 1)[0], "license": ds.license}
        if ds is not None
        else {"dataset": name, "files": 0, "source": "NOT AVAILABLE (no cache, mirror or download)", "license": ""}
        for name, ds in subjective.items()
    ]
)
