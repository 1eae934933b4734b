"""Presets, keras-hub style: a trained model as a folder that says what it is.

``save_preset(model, DIR, card=...)`` writes keras-hub's preset layout, so keras-hub's
``upload_preset("hf://...", DIR)`` can publish it::

    config.json        the model's Keras config (keras.saving.serialize_keras_object)
    model.weights.h5   its weights
    metadata.json      versions, parameter count, date, the input contract, the card's facts
    README.md          the model card: architecture, training data, recipe and budget, metrics
                       with seeds, lensml version and commit, licence, how to cite

``from_preset(DIR_or_URI)`` loads it back: a local folder, a name from ``list_presets()``, or
``hf://owner/name[@revision]`` through ``huggingface_hub`` (the ``lensml[hf]`` extra; with
``HF_HUB_OFFLINE=1`` only its local cache is read). The folder is written atomically.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
README_FILE = "README.md"

#: Named presets: name -> folder or URI (``register_preset`` adds to it).
_PRESETS: dict[str, str] = {}

#: The paper each architecture comes from (what a model card asks its users to cite).
CITATIONS = {
    "resnet18": "K. He, X. Zhang, S. Ren, J. Sun, Deep Residual Learning for Image Recognition, CVPR 2016",
    "resnet50": "K. He, X. Zhang, S. Ren, J. Sun, Deep Residual Learning for Image Recognition, CVPR 2016",
    "vit": "A. Dosovitskiy et al., An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale, "
           "ICLR 2021",
    "vitsd": "S. H. Lee, S. Lee, B. C. Song, Vision Transformer for Small-Size Datasets, 2021",
    "cait": "H. Touvron et al., Going deeper with Image Transformers, ICCV 2021",
    "cvt": "H. Wu et al., CvT: Introducing Convolutions to Vision Transformers, ICCV 2021",
    "efficientnet_b0": "M. Tan, Q. V. Le, EfficientNet: Rethinking Model Scaling for Convolutional Neural "
                       "Networks, ICML 2019",
    "efficientnetv2_s": "M. Tan, Q. V. Le, EfficientNetV2: Smaller Models and Faster Training, ICML 2021",
    "mobilenetv3_small": "A. Howard et al., Searching for MobileNetV3, ICCV 2019",
    "mobilenetv3_large": "A. Howard et al., Searching for MobileNetV3, ICCV 2019",
    "lenspinn_small": "A. Ojha, M. W. Toomey, S. Gleyzer, P. R. Kumbam, LensPINN: Physics Informed Neural Network "
                      "for Learning Dark Matter Morphology in Lensing, NeurIPS 2024 ML4PS workshop",
    "lenspinn_large": "A. Ojha, M. W. Toomey, S. Gleyzer, P. R. Kumbam, LensPINN: Physics Informed Neural Network "
                      "for Learning Dark Matter Morphology in Lensing, NeurIPS 2024 ML4PS workshop",
    "lensformer": "Lensformer: a physics-informed vision transformer for gravitational lensing, NeurIPS 2023 "
                  "ML4PS workshop (ML4SCI DeepLense)",
    "d4lenspinn": "D4LensPINN: physics-informed, D4-equivariant dark-matter classification (ML4SCI DeepLense)",
    "vanilla_lenspinn": "D4LensPINN: physics-informed, D4-equivariant dark-matter classification (ML4SCI "
                        "DeepLense), its non-equivariant ablation",
}
LICENSE = "Apache-2.0 (lensml's licence; the weights were trained by lensml on simulated lenses only)"


def save_preset(model, preset_dir, *, card: dict[str, Any] | None = None, overwrite: bool = False) -> Path:
    """Write ``model`` as a preset folder (module docstring).

    Args:
        model: a built Keras model (a lensml model carries its input contract).
        preset_dir: the folder to write (an existing one is refused unless ``overwrite``).
        card: facts for the model card, all optional: ``architecture`` (a registry name, for the
            citation), ``dataset``, ``train_examples``, ``recipe`` (dict), ``budget`` (str),
            ``metrics`` (dict of numbers), ``seeds``, ``notes``.

    Returns the folder's path.
    """
    import keras

    import lensml
    from lensml._io import json_safe, source_commit, staged_folder
    from lensml.models.registry import input_contract

    preset_dir = Path(preset_dir)
    if preset_dir.exists() and not overwrite:
        raise FileExistsError(f"preset folder {str(preset_dir)!r} already exists; pass overwrite=True or another folder")
    card = dict(card or {})
    contract = input_contract(model)
    metadata = {
        "keras_version": keras.__version__,
        "lensml_version": lensml.__version__,
        "lensml_commit": source_commit(),
        "parameter_count": int(model.count_params()),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "backend": keras.backend.backend(),
        "input_contract": contract,
        "card": card,
    }
    serialized = keras.saving.serialize_keras_object(model)
    serialized.pop("compile_config", None)  # a preset is the model, not how it was trained
    config = json.dumps(serialized, indent=2)
    # Keras's weights file also holds a compiled model's optimizer state (Adam: twice the
    # weights again): a preset holds the weights only, saved from an uncompiled copy of a compiled
    # model (built from a parsed copy of the config: deserialising consumes the dict it is given).
    bare = model
    if getattr(model, "optimizer", None) is not None:
        bare = keras.saving.deserialize_keras_object(json.loads(config), safe_mode=True)
        bare.set_weights(model.get_weights())
    with staged_folder(preset_dir) as stage:
        (stage / CONFIG_FILE).write_text(config)
        bare.save_weights(stage / WEIGHTS_FILE)
        (stage / METADATA_FILE).write_text(json.dumps(json_safe(metadata), indent=2, default=str) + "\n")
        (stage / README_FILE).write_text(model_card(model.name, metadata))
    return preset_dir


def model_card(name: str, metadata: dict[str, Any]) -> str:
    """The preset's README.md (a model card) from its metadata."""
    card = metadata.get("card") or {}
    contract = metadata.get("input_contract") or {}
    arch = card.get("architecture") or name
    lines = [f"# {name}", "", "A lensml model preset (keras-hub layout: config.json, model.weights.h5, metadata.json).",
             "", "```python", "import lensml.models as M", f'model = M.from_preset("{card.get("preset_name", "<this folder>")}")',
             "```", "", "## Architecture", "",
             f"`{arch}`, {metadata.get('parameter_count', 0):,} parameters; input {contract.get('image_shape')} "
             f"images, `{contract.get('normalization')}` normalisation inside the model, pixel scale "
             f"{contract.get('pixel_scale')} arcsec, NaN pixels: `{contract.get('masked')}`.", "",
             "## Training data", "",
             f"{card.get('dataset', 'not recorded')}" + (f", {card['train_examples']:,} training examples (lenses seen)"
                                                         if card.get("train_examples") else "") + ".", ""]
    if card.get("recipe") or card.get("budget"):
        lines += ["## Recipe and budget", ""]
        if card.get("budget"):
            lines += [str(card["budget"]), ""]
        for key, value in sorted((card.get("recipe") or {}).items()):
            lines.append(f"- `{key}` = {value!r}")
        lines.append("")
    lines += ["## Metrics", ""]
    metrics = card.get("metrics") or {}
    if metrics:
        lines += [f"Seeds: {card.get('seeds', 'not recorded')}. {card.get('metrics_note', '')}".rstrip(), "",
                  "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in sorted(metrics.items())]
    else:
        lines.append("Not recorded.")
    lines += ["", "## Provenance and licence", "",
              f"lensml {metadata.get('lensml_version')} (commit {metadata.get('lensml_commit') or 'unknown'}), "
              f"Keras {metadata.get('keras_version')} ({metadata.get('backend')}), {metadata.get('date')}.", "",
              f"Licence: {LICENSE}.", "", "## How to cite", "",
              f"The architecture: {CITATIONS.get(arch, 'see lensml.models.describe(' + repr(arch) + ')')}.", ""]
    if card.get("notes"):
        lines += ["## Notes", "", str(card["notes"]), ""]
    return "\n".join(lines)


def register_preset(name: str, location: str) -> None:
    """Name a preset folder or URI, for ``from_preset(name)`` and ``list_presets()``."""
    _PRESETS[str(name)] = str(location)


def list_presets() -> dict[str, str]:
    """Named presets: the ones lensml ships (``lensml/presets/<name>/``) and those registered."""
    from importlib.resources import files

    found = {}
    shipped = files("lensml") / "presets"
    if shipped.is_dir():
        for child in sorted(shipped.iterdir(), key=lambda c: c.name):
            if child.is_dir() and (child / CONFIG_FILE).is_file():
                found[child.name] = str(child)
    found.update(_PRESETS)
    return found


def _resolve(preset) -> Path:
    """A local folder for ``preset`` (folder, registered name, or ``hf://`` URI)."""
    text = str(preset)
    known = list_presets()
    if text in known:
        text = known[text]
    if text.startswith("hf://"):
        try:
            import huggingface_hub
        except ImportError:
            raise ValueError(f"preset {text!r}: hf:// presets need huggingface_hub (`pip install 'lensml[hf]'`)") from None
        repo, _, revision = text[len("hf://"):].partition("@")
        try:
            return Path(huggingface_hub.snapshot_download(repo_id=repo, revision=revision or None))
        except Exception as e:  # offline without a cached copy, unknown repo, ...
            raise ValueError(f"preset {text!r}: cannot get it from the Hugging Face Hub or its cache "
                             f"({type(e).__name__}: {e})") from None
    if "://" in text:
        raise ValueError(f"preset {text!r}: unknown URI scheme; expected a folder, a name from "
                         f"lensml.models.list_presets() ({', '.join(known) or 'none'}) or hf://owner/name")
    path = Path(text).expanduser()
    if not (path / CONFIG_FILE).is_file():
        raise ValueError(f"preset {text!r} is not a preset folder (no {CONFIG_FILE}) nor a known preset name; "
                         f"known: {', '.join(known) or 'none'}")
    return path


def from_preset(preset, *, compile: bool = False):
    """The model of a preset (module docstring): a folder, a name from :func:`list_presets`, or
    ``hf://owner/name[@revision]``. Its weights and input contract are the saved ones."""
    import keras

    from lensml import _keras_objects

    path = _resolve(preset)
    _keras_objects.register_if_keras_loaded()
    for module in _keras_objects.MODULES:  # the lensml classes the config may name
        __import__(module)
    config = json.loads((path / CONFIG_FILE).read_text())
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    model.load_weights(path / WEIGHTS_FILE)
    if compile:
        model.compile()
    return model


def preset_metadata(preset) -> dict[str, Any]:
    """The ``metadata.json`` of a preset (versions, input contract, the card's facts)."""
    return json.loads((_resolve(preset) / METADATA_FILE).read_text())


__all__ = ["save_preset", "from_preset", "list_presets", "register_preset", "preset_metadata", "model_card"]
