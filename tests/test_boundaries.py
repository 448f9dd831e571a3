"""The layering rules, read from the imports of bot/, cogs/ and storage/ (every import, even lazy ones).

- A leading underscore means private to its package: `cogs.intros._skills` is imported from inside
  `cogs.intros` only; other features use the package's public modules (`cogs.intros.profiles`).
- `storage/` is the ground floor: it imports nothing from `bot/` or `cogs/` (the models of every
  feature are assembled in bot.models).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("bot", "cogs", "storage")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, root: Path = ROOT) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every module or name this file imports, relative imports resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def sources() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (ROOT / layer).rglob("*.py"))


def private_owner(target: str) -> str | None:
    """The package a dotted name is private to: `cogs.intros._skills.x` -> `cogs.intros`."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def private_import_problems(paths: list[Path], root: Path = ROOT) -> list[str]:
    """One line per import statement that reaches into another package's private module or name."""
    problems: dict[tuple[Path, int], str] = {}
    for path in paths:
        importer = module_name(path, root)
        for line, target in imports(path, root):
            owner = private_owner(target)
            if owner is not None and not (importer == owner or importer.startswith(owner + ".")):
                problems.setdefault((path, line), f"{path.relative_to(root)}:{line} imports {target}, "
                                                  f"private to {owner}")
    return list(problems.values())


def test_the_scan_sees_private_imports_lazy_and_relative(tmp_path: Path) -> None:
    feature = tmp_path / "cogs" / "missions"
    feature.mkdir(parents=True)
    (feature / "__init__.py").write_text("from cogs.missions._cards import card\n")
    (feature / "_slack.py").write_text(
        "from . import _cards\n"
        "def handler():\n"
        "    from cogs.intros._skills import split_skills\n"
        "    from ..intros import _profile\n"
    )
    problems = private_import_problems(sorted((tmp_path / "cogs").rglob("*.py")), tmp_path)
    assert problems == [
        "cogs/missions/_slack.py:3 imports cogs.intros._skills, private to cogs.intros",
        "cogs/missions/_slack.py:4 imports cogs.intros._profile, private to cogs.intros",
    ]


def test_no_module_imports_another_package_s_private_module() -> None:
    problems = private_import_problems(sources())
    assert not problems, "use the package's public API instead:\n" + "\n".join(problems)


def test_storage_imports_nothing_from_bot_or_cogs() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in sorted((ROOT / "storage").rglob("*.py"))
        for line, target in imports(path)
        if target.split(".")[0] in ("bot", "cogs")
    ]
    assert not problems, "storage/ is the ground floor (assemble features in bot/):\n" + "\n".join(problems)
