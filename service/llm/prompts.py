"""Prompt templates, one file each in ``prompts/`` (``.md`` or ``.txt``).

A file starts with a small header and holds a system part and a user part::

    ---
    name: answer
    version: 1
    description: ...
    ---
    [system]
    ...
    [user]
    ... $passages ... $question ...

Placeholders are ``string.Template`` fields (``$name``): article text full of braces or
dollar signs is substituted as it is, never parsed as template syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

import yaml

from service.domain import PromptRef

SUFFIXES = (".md", ".txt")
_HEADER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_PART = re.compile(r"^\[(system|user)\]\s*$", re.MULTILINE)


class PromptError(ValueError):
    """A prompt file is missing or malformed."""


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    description: str
    system: str
    user: str
    path: Path

    @property
    def ref(self) -> PromptRef:
        return PromptRef(self.name, self.version)

    def messages(self, **fields: str) -> list[dict[str, str]]:
        """Chat messages with ``fields`` filled in; a missing field is an error, not a blank."""
        try:
            user = Template(self.user).substitute(fields)
            system = Template(self.system).substitute(fields)
        except KeyError as missing:
            raise PromptError(f"prompt {self.name}: no value for ${missing.args[0]}") from None
        messages = [{"role": "system", "content": system}] if system else []
        return [*messages, {"role": "user", "content": user}]


def parse_prompt(text: str, path: Path) -> PromptTemplate:
    header = _HEADER.match(text)
    if not header:
        raise PromptError(f"{path}: no '---' header with name and version")
    meta = yaml.safe_load(header.group(1)) or {}
    if not isinstance(meta, dict) or not meta.get("name") or meta.get("version") is None:
        raise PromptError(f"{path}: the header needs a name and a version")
    body = text[header.end():]
    parts: dict[str, str] = {}
    marks = list(_PART.finditer(body))
    for mark, following in zip(marks, [*marks[1:], None]):
        end = following.start() if following else len(body)
        parts[mark.group(1)] = body[mark.end():end].strip()
    if "user" not in parts:
        raise PromptError(f"{path}: no [user] part")
    return PromptTemplate(
        name=str(meta["name"]), version=str(meta["version"]),
        description=str(meta.get("description", "")),
        system=parts.get("system", ""), user=parts["user"], path=path,
    )


@lru_cache(maxsize=8)
def load_prompts(folder: Path) -> dict[str, PromptTemplate]:
    """Every template in ``folder`` by name (read once per process)."""
    prompts: dict[str, PromptTemplate] = {}
    for path in sorted(folder.glob("*")):
        if path.suffix not in SUFFIXES or not path.is_file():
            continue
        prompt = parse_prompt(path.read_text(encoding="utf-8"), path)
        if prompt.name in prompts:
            raise PromptError(f"{path}: prompt name {prompt.name!r} is used twice")
        prompts[prompt.name] = prompt
    return prompts


def get_prompt(folder: Path, name: str) -> PromptTemplate:
    prompts = load_prompts(folder)
    if name not in prompts:
        known = ", ".join(sorted(prompts)) or "none"
        raise PromptError(f"no prompt named {name!r} in {folder} (found: {known})")
    return prompts[name]


def prompt_versions(folder: Path) -> dict[str, str]:
    """Name -> version of every prompt, for reports that record what produced their answers."""
    return {name: p.version for name, p in load_prompts(folder).items()}
