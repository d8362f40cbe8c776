"""Load and validate the jurisdiction profiles (one YAML file per profile).

A malformed file is refused with `RuleError` (an `Invalid`) naming the file, the line and the
YAML path of the problem, e.g. `gdpr.yaml:41: obligations[0].deadline.hours: …`. Cities override
internal targets with `with_targets`; a statutory deadline cannot be overridden.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from civicshield.core.errors import FieldError, Invalid, RuleError
from civicshield.incidents.clocks.model import Obligation, Profile

__all__ = ["PROFILES_DIR", "load_profile", "load_profiles", "with_targets"]

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"

Loc = tuple[str | int, ...]


def _yaml_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line_of(node: yaml.Node | None, loc: Loc) -> int | None:
    """The 1-based line of the deepest node on `loc` in the composed YAML tree."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _duplicate_key(node: yaml.Node, loc: Loc = ()) -> tuple[Loc, int] | None:
    """PyYAML keeps the last of two equal keys silently; a repeated key is refused here."""
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key, value in node.value:
            if key.value in seen:
                return (*loc, key.value), key.start_mark.line + 1
            seen.add(key.value)
            found = _duplicate_key(value, (*loc, key.value))
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found = _duplicate_key(item, (*loc, i))
            if found:
                return found
    return None


def _refuse(path: Path, loc: Loc, msg: str, line: int | None) -> RuleError:
    err = RuleError(f"{_yaml_path(loc)}: {msg}", source=str(path), line=line)
    err.errors = [FieldError((path.name, *loc), msg)]
    return err


def _cross_check(data: dict[str, Any]) -> tuple[Loc, str] | None:
    """Links between obligations, checked here to name the exact place (the model re-checks)."""
    obligations = data.get("obligations")
    if not isinstance(obligations, list):
        return None
    ids = [o.get("id") for o in obligations if isinstance(o, dict)]
    for i, ob in enumerate(obligations):
        if not isinstance(ob, dict) or not isinstance(ob.get("id"), str):
            continue
        if ob["id"].split(".", 1)[0] != data.get("id"):
            return ("obligations", i, "id"), f"{ob['id']!r} does not start with '{data.get('id')}.'"
        if ob["id"] in ids[:i]:
            return ("obligations", i, "id"), f"{ob['id']!r} is given twice"
        follows = ob.get("follows")
        if follows is not None and follows not in ids:
            return ("obligations", i, "follows"), f"follows unknown obligation {follows!r}"
    return None


def load_profile(path: Path) -> Profile:
    """One profile file, validated; `RuleError` names the file, line and YAML path on error."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _refuse(path, (), f"cannot read the file ({exc})", None) from exc
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise _refuse(
            path, (), f"not valid YAML: {problem}", mark.line + 1 if mark else None
        ) from exc
    if not isinstance(data, dict) or tree is None:
        raise _refuse(path, (), "a profile is a mapping with id, version, name, obligations", 1)
    dup = _duplicate_key(tree)
    if dup:
        raise _refuse(path, dup[0], "key given twice", dup[1])
    cross = _cross_check(data)
    if cross:
        raise _refuse(path, cross[0], cross[1], _line_of(tree, cross[0]))
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc: Loc = tuple(first["loc"])
        raise _refuse(path, loc, first["msg"], _line_of(tree, loc)) from exc
    if profile.id != path.stem:
        raise _refuse(path, ("id",), f"id {profile.id!r} differs from the file name", 1)
    return profile


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """Every `*.yaml` profile in `path` (default: the shipped profiles), keyed by id."""
    folder = path or PROFILES_DIR
    if not folder.is_dir():
        raise RuleError("profiles folder does not exist", source=str(folder))
    profiles: dict[str, Profile] = {}
    for file in sorted(folder.glob("*.yaml")):
        profile = load_profile(file)
        profiles[profile.id] = profile
    if not profiles:
        raise RuleError("no *.yaml profile in the folder", source=str(folder))
    return profiles


def obligation(profiles: Mapping[str, Profile], obligation_id: str) -> Obligation:
    """The obligation `profile.obligation` from `profiles`; `Invalid` when unknown."""
    profile = profiles.get(obligation_id.split(".", 1)[0])
    for ob in profile.obligations if profile else ():
        if ob.id == obligation_id:
            return ob
    raise Invalid(
        f"unknown obligation {obligation_id!r}",
        [FieldError(("obligation",), "unknown obligation")],
    )


def with_targets(
    targets: Mapping[str, float], profiles: Mapping[str, Profile] | None = None
) -> dict[str, Profile]:
    """Profiles with the city's internal targets (hours) for "promptly"-type obligations.

    Only internal targets can be changed: overriding a statutory deadline (GDPR's 72 h) is
    refused, as are unknown obligations and non-positive hours.
    """
    base = dict(profiles) if profiles is not None else load_profiles()
    for ob_id, hours in targets.items():
        ob = obligation(base, ob_id)
        if ob.kind != "internal-target":
            raise Invalid(
                f"{ob_id} has a statutory deadline; only internal targets can be configured",
                [FieldError(("targets", ob_id), "statutory deadline")],
            )
        if not isinstance(hours, int | float) or isinstance(hours, bool) or not hours > 0:
            raise Invalid(
                f"the target for {ob_id} must be a positive number of hours, not {hours!r}",
                [FieldError(("targets", ob_id), "not a positive number of hours")],
            )
        profile = base[ob.profile_id]
        new_obs = tuple(
            o.model_copy(
                update={"deadline": o.deadline.model_copy(update={"target_hours": float(hours)})}
            )
            if o.id == ob_id
            else o
            for o in profile.obligations
        )
        base[profile.id] = profile.model_copy(update={"obligations": new_obs})
    return base
