"""Search spaces for ``seqgan tune``: a YAML file of dotted config keys, one range or list of choices each.

    generator.lr: {low: 1.0e-4, high: 1.0e-2, log: true}
    train.d_steps: {low: 1, high: 5}
    train.rollout_update_rate: {low: 0.0, high: 0.9, step: 0.1}
    discriminator.gradient_penalty: {choices: [none, r1, zero_gp]}

Each key must be a number, string or true/false field of ``Config``; every choice and both ends of
every range must make a valid config with the base run. Errors are one line naming the file and line.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..config import Config, ConfigError, YamlLoader, line_map, load_config


@dataclass
class Param:
    """One dotted config key and the values the search may give it."""

    key: str
    type: type  # int, float, str or bool: the config field's type
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    choices: list | None = None

    def suggest(self, trial):
        if self.choices is not None:
            return trial.suggest_categorical(self.key, self.choices)
        if self.type is int:
            return trial.suggest_int(self.key, int(self.low), int(self.high), step=int(self.step or 1), log=self.log)
        return trial.suggest_float(self.key, self.low, self.high, step=self.step, log=self.log)


def _field_type(key: str):
    """The annotated type of a dotted config key, or None when there is no such key."""
    obj: object = Config()
    parts = key.split(".")
    for i, part in enumerate(parts):
        names = {f.name for f in dataclasses.fields(obj)}
        if part not in names:
            return None
        if i == len(parts) - 1:
            return typing.get_type_hints(type(obj))[part]
        obj = getattr(obj, part)
        if not dataclasses.is_dataclass(obj):
            return None
    return None


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def load_space(path: str | Path, config: str | None = None, overrides: list[str] = ()) -> list[Param]:
    """Read and check a search-space file. Every error is one line naming the file and line.

    ``config`` and ``overrides`` are the base run: each choice and both ends of each range must
    make a valid config with it.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=YamlLoader)
        values = yaml.load(text, Loader=YamlLoader)
    except FileNotFoundError:
        raise ConfigError(f"space {path}: no such file") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigError(
            f"space {path}{f':{mark.line + 1}' if mark else ''}: not valid YAML ({getattr(e, 'problem', e)})"
        ) from None
    if not isinstance(values, dict) or not values:
        raise ConfigError(f"space {path}: expected a mapping of dotted config keys to ranges or choices")
    lines = line_map(node)
    space = []
    for key, spec in values.items():
        where = f"space {path}:{lines.get(key, '?')}: key '{key}'"
        typ = _field_type(str(key))
        if typ is None:
            raise ConfigError(f"{where}: unknown config key")
        if typ not in (int, float, str, bool):
            raise ConfigError(f"{where}: only number, string and true/false keys can be searched (this one is {typ})")
        if isinstance(spec, list):
            spec = {"choices": spec}
        if not isinstance(spec, dict):
            raise ConfigError(
                f"{where}: expected {{low: .., high: ..}} (with log: true or step: ..) "
                f"or {{choices: [..]}}, got {spec!r}"
            )
        unknown = set(spec) - {"low", "high", "step", "log", "choices"}
        if unknown:
            raise ConfigError(
                f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))} "
                "(known: low, high, step, log, choices)"
            )
        if "choices" in spec:
            if set(spec) != {"choices"}:
                raise ConfigError(f"{where}: give either choices or a range, not both")
            choices = spec["choices"]
            if not isinstance(choices, list) or not choices:
                raise ConfigError(f"{where}: choices must be a non-empty list")
            for c in choices:
                ok = _is_number(c) if typ is float else isinstance(c, typ) and not (typ is int and isinstance(c, bool))
                if not ok:
                    raise ConfigError(f"{where}: choice {c!r} does not match the key's type ({typ.__name__})")
            param = Param(str(key), typ, choices=[float(c) if typ is float else c for c in choices])
        else:
            if typ not in (int, float):
                raise ConfigError(f"{where}: a {typ.__name__} key takes choices, not a range")
            if "low" not in spec or "high" not in spec:
                raise ConfigError(f"{where}: a range needs low and high")
            low, high, step, log = spec["low"], spec["high"], spec.get("step"), spec.get("log", False)
            for name, v in (("low", low), ("high", high), ("step", step)):
                if v is None and name == "step":
                    continue
                if not _is_number(v) or (typ is int and not isinstance(v, int)):
                    raise ConfigError(f"{where}: {name} {v!r} does not match the key's type ({typ.__name__})")
            if not isinstance(log, bool):
                raise ConfigError(f"{where}: log must be true or false, got {log!r}")
            if low >= high:
                raise ConfigError(f"{where}: empty range (low {low} >= high {high})")
            if log and low <= 0:
                raise ConfigError(f"{where}: a log range needs low > 0, got {low}")
            if log and step is not None:
                raise ConfigError(f"{where}: give step or log, not both")
            if step is not None and step <= 0:
                raise ConfigError(f"{where}: step must be positive, got {step}")
            param = Param(str(key), typ, low=low, high=high, step=step, log=log)
            choices = [low, high]
        for value in choices:  # the base config must accept every setting the search can reach
            try:
                load_config(config, [*overrides, f"{key}={json.dumps(value)}"])
            except ConfigError as e:
                raise ConfigError(f"{where}: {value!r} is not a valid setting ({str(e).split(': ', 1)[-1]})") from None
        space.append(param)
    return space
