"""A sum of profiles with lenstronomy's ``kwargs_list`` API: the base of ``MassModel`` and ``LightModel``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ProfileSum:
    """Profiles by lenstronomy name, each called with its own dict of keywords.

    Subclasses set ``registry`` (name -> profile class) and ``kind`` ("mass", "light": for
    error messages).
    """

    registry: dict = {}
    kind: str = ""

    def __init__(self, profile_names: Sequence[str]):
        if isinstance(profile_names, str) or not isinstance(profile_names, Sequence):
            raise TypeError(f"profile_names must be a list of profile names, got {profile_names!r}")
        for name in profile_names:
            if name not in self.registry:
                raise ValueError(f"profile_names: unknown {self.kind} profile {name!r}; known profiles are "
                                 f"{sorted(self.registry)}")
        self.profile_names = list(profile_names)
        self.profiles = [self.registry[name]() for name in self.profile_names]

    def _pairs(self, kwargs_list):
        """(profile, kwargs) pairs, after checking ``kwargs_list`` is one dict per profile."""
        if isinstance(kwargs_list, Mapping) or not isinstance(kwargs_list, Sequence):
            raise TypeError(
                f"kwargs_list must be a list of dicts (one per profile), got {type(kwargs_list).__name__}"
            )
        if len(kwargs_list) != len(self.profiles):
            raise ValueError(
                f"kwargs_list has {len(kwargs_list)} entries but the model has "
                f"{len(self.profiles)} profiles {self.profile_names}"
            )
        for i, kwargs in enumerate(kwargs_list):
            if not isinstance(kwargs, Mapping):
                raise TypeError(f"kwargs_list[{i}] must be a dict, got {type(kwargs).__name__}")
        return zip(self.profiles, kwargs_list)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.profile_names!r})"
