"""Name -> model family registry.

Families register themselves with :func:`register` when their module is imported;
:mod:`aekit.models` imports every built-in family. No dispatch chains: loading a
saved model looks its family up here.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from aekit.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from aekit.models.base import Autoencoder

M = TypeVar("M")


@dataclass(frozen=True)
class Family:
    """One registered model family."""

    name: str
    model_class: type
    config_class: type
    description: str


_FAMILIES: dict[str, Family] = {}


def register(name: str, config_class: type, description: str = "") -> Callable[[M], M]:
    """Class decorator: register a model class under ``name`` with its config dataclass."""

    def deco(cls: M) -> M:
        if name in _FAMILIES and _FAMILIES[name].model_class is not cls:
            raise RuntimeError(f"model family {name!r} registered twice")
        doc = description or (cls.__doc__ or "").strip().splitlines()[0]
        _FAMILIES[name] = Family(name, cls, config_class, doc)  # type: ignore[arg-type]
        cls.family = name  # type: ignore[attr-defined]
        return cls

    return deco


def _ensure_loaded() -> None:
    import aekit.models  # noqa: F401  (imports every built-in family)


def family_index() -> dict[str, str]:
    """``{name: description}`` of the built-in families, read from the ``@register(...)`` lines of
    ``aekit/models/*.py`` without importing them: listing names must not cost a torch import
    (``aekit models`` answers in a fraction of a second). A test keeps it equal to :func:`families`."""
    import ast
    from pathlib import Path

    index: dict[str, str] = {}
    for path in sorted((Path(__file__).parent / "models").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "register":
                    args = [a.value for a in deco.args if isinstance(a, ast.Constant)]
                    index[args[0]] = args[1] if len(args) > 1 else (ast.get_docstring(node) or "").splitlines()[0]
    return dict(sorted(index.items()))


def families() -> dict[str, Family]:
    """All registered families, by name."""
    _ensure_loaded()
    return dict(sorted(_FAMILIES.items()))


def get_family(name: str) -> Family:
    """Look a family up by name; unknown names raise :class:`ConfigError` with a suggestion."""
    _ensure_loaded()
    try:
        return _FAMILIES[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_FAMILIES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"unknown model family {name!r}{hint}; known: {', '.join(sorted(_FAMILIES))}"
        ) from None


def build_model(family: str | dict[str, Any], params: dict[str, Any] | None = None, seed: int | None = None) -> "Autoencoder":
    """Build a model of ``family`` from a plain dict of config values (strictly checked).

    ``family`` may also be the ``model`` section of a run config, ``{"family": ..., **params}``,
    so one dict serves :func:`aekit.train` and this function alike. With ``seed``, the
    initial weights come from that seed without touching the global random state
    (reproducible fits); without it, from the global torch generator.
    """
    from aekit.config import from_dict

    if isinstance(family, dict):
        if "family" not in family:
            raise ConfigError("a model config needs a 'family' (see `aekit models`)")
        if params:
            raise ConfigError("give the parameters either in the model config or as params, not both")
        params = {k: v for k, v in family.items() if k != "family"}
        family = str(family["family"])
    params = params or {}
    fam = get_family(family)
    cfg = from_dict(fam.config_class, params, where=f"model ({family})")
    if seed is None:
        return fam.model_class(cfg)
    import torch

    with torch.random.fork_rng(devices=[]):
        if torch.get_default_device().type == "cpu":
            # the weights are drawn on the CPU: its generator is the one torch.manual_seed seeds for them
            # (it also seeds every other device's, which fork_rng(devices=[]) does not undo, and costs
            # more than building a small network: an ensemble builds one per member)
            torch.default_generator.manual_seed(seed)
        else:
            torch.manual_seed(seed)
        return fam.model_class(cfg)
