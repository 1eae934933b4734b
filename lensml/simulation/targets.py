"""What a family's examples carry: its targets, one schema read by every part of lensml.

A :class:`Target` names one quantity of an example: its shape, dtype, unit, the evaluation task
it is tested under, and which of the family's classes carry it (the axion mass only exists for
a vortex). ``Family.targets`` resolves the schema for one family; the TFDS features
(``lensml.datasets.deeplense``), the stored pipeline and the stream (``lensml.data``), the config
checks and the CLI read it from there, so a new target, or a class that carries one, is written
here and in its sampler (``Substructure.targets``) and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Target:
    """One quantity an example carries.

    Attributes:
      name: the feature / ``data.target`` name.
      shape: per-example shape; ``"map"`` for an ``(H, W, 1)`` image-plane map.
      dtype: numpy dtype name of the stored value.
      unit: physical unit ("" for a class index or a dimensionless map).
      doc: one line saying what it is.
      task: the evaluation protocol it is tested under ("classification", "regression",
        "super_resolution") or None (no protocol: e.g. a convergence map).
      carried_by: the class samplers' names that carry it, None for every class; a class that
        does not carry a scalar target stores NaN there.
      stored: kept in the TFDS splits (False: made from the image, e.g. ``"image"``).
      stream: the batched simulator can make it (``lensml.data.SimulatedStream``).
    """

    name: str
    shape: tuple | str
    dtype: str
    unit: str
    doc: str
    task: str | None = None
    carried_by: tuple[str, ...] | None = None
    stored: bool = True
    stream: bool = True

    @property
    def is_map(self) -> bool:
        """An image-plane map (moves with the image under a D4 augmentation)."""
        return self.shape == "map"

    def describe(self) -> str:
        """A line for docs and error messages: what a batch of this target is."""
        shape = "(B, H, W, 1)" if self.is_map else "(B,)" if self.shape == () else f"(B, {', '.join(map(str, self.shape))})"
        unit = f", {self.unit}" if self.unit else ""
        carried = "" if self.carried_by is None else f"; {', '.join(self.carried_by) or 'no'} examples only"
        return f"{self.doc} {shape} {self.dtype}{unit}{carried}"


#: Every target lensml knows, for a family whose classes carry all of them. ``label``'s classes
#: and the carriers of a class-specific target are the family's (``for_family``).
TARGETS: tuple[Target, ...] = (
    Target("label", (), "int64", "", "class index, in the family's class order", task="classification"),
    Target("log10_axion_mass", (), "float32", "log10(m_a / eV)", "axion mass of the vortex",
           task="regression", carried_by=()),
    Target("theta_E", (), "float32", "arcsec", "main-lens Einstein radius", task="regression"),
    Target("source_center", (2,), "float32", "arcsec", "source centre (x, y)", task="regression"),
    Target("convergence", "map", "float32", "", "true convergence (not normalised; point masses deposited in their pixel)", stream=False),
    Target("image", "map", "float32", "", "the normalised noise-free image itself", stored=False),
)
#: Super-resolution datasets (``<family>_sr<k>``) also carry ``hr`` (inputs are their ``lr`` images).
HR = Target("hr", "map", "float32", "", "the normalised high-resolution image (inputs: the 'lr' images)",
            task="super_resolution", stream=False)
#: The target each evaluation task tests by default (``lensml evaluate --task``).
DEFAULT_TARGET = {"classification": "label", "regression": "log10_axion_mass", "super_resolution": "hr"}


def target_names(*, stream: bool = False) -> tuple[str, ...]:
    """The targets the stored pipeline makes (all of ``TARGETS`` and ``hr``), or with ``stream``
    those the batched simulator makes."""
    if stream:
        return tuple(t.name for t in TARGETS if t.stream)
    return tuple(t.name for t in TARGETS) + (HR.name,)


def get(name: str) -> Target:
    """The schema's ``Target`` ``name`` (``hr`` included); ValueError naming the known ones."""
    for t in TARGETS + (HR,):
        if t.name == name:
            return t
    raise ValueError(f"target: got {name!r}, expected one of {list(target_names())}")


def task_of(name: str) -> str | None:
    """The evaluation task of target ``name`` (None: none, or an unknown name)."""
    return get(name).task if name in target_names() else None


def for_family(classes) -> dict[str, Target]:
    """The schema of a family with class samplers ``classes`` (label order): each target with
    the classes that carry it (a sampler lists the class-specific targets it draws in its
    ``targets``)."""
    out = {}
    for t in TARGETS:
        if t.carried_by is not None:
            t = replace(t, carried_by=tuple(c.name for c in classes if t.name in getattr(c, "targets", ())))
        out[t.name] = t
    return out
