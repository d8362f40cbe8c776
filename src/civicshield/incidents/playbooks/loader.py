"""Load playbook templates from YAML, refusing a bad file with its name, line and YAML path.

    playbooks = load_playbooks()            # the six shipped templates
    playbooks = load_playbooks(Path("x"))   # a city's own folder (or one file)

Every problem in a file is reported (`Invalid.errors`, each `loc` = (file, *yaml path)); the
message names the first. Files are `*.yaml`/`*.yml`; a template's `id` must equal its file
name, so the file a task came from is always obvious.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from civicshield.core import FieldError, RuleError
from civicshield.incidents.playbooks.model import Playbook, PlaybookRuleError

__all__ = ["TEMPLATES", "load_playbook_file", "load_playbooks"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
_SUFFIXES = (".yaml", ".yml")

Loc = tuple[str | int, ...]
# libyaml when present (about ten times faster); its nodes carry the same line marks.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_playbooks(path: Path | None = None) -> dict[str, Playbook]:
    """Load every template under `path` (default: the shipped ones), keyed by id."""
    root = TEMPLATES if path is None else Path(path)
    if root.is_file():
        files = [root]
    elif root.is_dir():
        files = sorted(p for p in root.iterdir() if p.suffix in _SUFFIXES and p.is_file())
    else:
        raise RuleError("playbook path does not exist", source=str(root))
    loaded: dict[str, Playbook] = {}
    origin: dict[str, Path] = {}
    for file in files:
        playbook = load_playbook_file(file)
        if playbook.id in loaded:
            raise _error(
                file, None, ("id",), f"duplicate playbook id (also in {origin[playbook.id]})"
            )
        loaded[playbook.id] = playbook
        origin[playbook.id] = file
    return loaded


def load_playbook_file(file: Path) -> Playbook:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot read playbook: {exc}", source=str(file)) from exc
    try:
        node = yaml.compose(text, Loader=_LOADER)
        data: Any = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise RuleError(f"not valid YAML: {exc}", source=str(file), line=line) from exc
    if not isinstance(data, dict):
        raise _error(file, node, (), "a playbook must be a YAML mapping")
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(err) for err in exc.errors()]
        raise _errors(file, node, problems) from exc
    if playbook.id != file.stem:
        raise _error(file, node, ("id",), f"id {playbook.id!r} must match the file name")
    return playbook


def _problem(err: Any) -> tuple[Loc, str]:
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, PlaybookRuleError):
        return cause.loc, cause.msg
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "missing (required)"
    elif err["type"] == "extra_forbidden":
        msg = "unknown key"
    return tuple(err["loc"]), msg


def yaml_path(loc: Loc) -> str:
    """("phases", 2, "tasks", 0, "role") -> "phases[2].tasks[0].role"."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "<document>"


def _line(node: yaml.Node | None, loc: Loc) -> int | None:
    """Line of the deepest YAML node on `loc` (the parent when the key itself is missing)."""
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


def _error(file: Path, node: yaml.Node | None, loc: Loc, msg: str) -> RuleError:
    return _errors(file, node, [(loc, msg)])


def _errors(file: Path, node: yaml.Node | None, problems: list[tuple[Loc, str]]) -> RuleError:
    loc, msg = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    error = RuleError(f"{yaml_path(loc)}: {msg}{more}", source=str(file), line=_line(node, loc))
    error.errors = [FieldError((str(file), *where), text) for where, text in problems]
    return error
