"""Run the rules over a Dockerfile: findings with their bytes, minus what pragmas and config ignore.

Pragmas are hadolint's (`# hadolint ignore=DL3008,DL3009` on the line before an instruction, and
`# hadolint global ignore=...` anywhere) and pare's own (`# pare ignore=PL102,apt-lists`, `# pare
global ignore=...`), by pare id, hadolint id or family. Config comes from `.pare-lint.toml` or the
`[tool.pare.lint]` table of pyproject.toml, nearest the Dockerfile first: `ignore`, `trusted-registries`,
`fail-on`.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pare.errors import PareError, UsageError
from pare.lint.parser import Dockerfile
from pare.lint.rules import BY_HADOLINT, RULES, SEVERITIES, Context, Rule

PRAGMA = re.compile(r"#\s*(hadolint|pare)\s+(global\s+)?ignore\s*=\s*([A-Za-z0-9_,\s-]+)", re.IGNORECASE)


class ConfigError(PareError):
    exit_code = 3


@dataclass(frozen=True)
class Config:
    ignore: frozenset[str] = frozenset()
    trusted_registries: tuple[str, ...] = ()
    fail_on: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Finding:
    rule: Rule
    line: int
    message: str
    bytes: int | None
    stage: str
    path: str = ""
    measured: bool = False  # bytes from the built image's layers (pare lint --measure), not an estimate

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.rule.id, "family": self.rule.family, "hadolint": list(self.rule.hadolint),
                "severity": self.rule.severity, "path": self.path, "line": self.line, "stage": self.stage,
                "bytes": self.bytes, "measured": self.measured, "message": self.message,
                "docs": self.rule.docs}


@dataclass(frozen=True)
class Result:
    path: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def bytes(self) -> int:
        return sum(f.bytes or 0 for f in self.findings)


def _matches(rule: Rule, names: Iterable[str]) -> bool:
    wanted = {n.strip().upper() for n in names if n.strip()}
    return bool(wanted & {rule.id, rule.family.upper(), *rule.hadolint})


def pragmas(df: Dockerfile) -> tuple[set[str], dict[int, set[str]]]:
    """(ids ignored in the whole file, ids ignored per instruction line)."""
    everywhere: set[str] = set()
    per_line: dict[int, set[str]] = {}
    lines = df.lines
    starts = sorted(i.line for i in df.instructions)
    for number, text in enumerate(lines, start=1):
        match = PRAGMA.search(text)
        if not match or not text.lstrip().startswith("#"):
            continue
        names = {n.strip() for n in match.group(3).replace(" ", ",").split(",") if n.strip()}
        if match.group(2):
            everywhere |= names
            continue
        following = next((s for s in starts if s > number), None)
        if following is not None:
            per_line.setdefault(following, set()).update(names)
    return everywhere, per_line


def lint(df: Dockerfile, config: Config | None = None, today: dt.date | None = None,
         context: Path | None = None, use_index: bool = False) -> Result:
    """Every finding, sorted by bytes (largest first; unpriced last), then by line. context: the build
    context, where at hand: findings about files COPY brings in are then priced from their sizes.
    use_index: apt installs priced from the Debian suite's package index (pare.lint.index)."""
    from pare.lint.context import BuildContext

    config = config or Config()
    build_context = BuildContext(context) if context is not None and context.is_dir() else None
    ctx = Context(df, today or dt.date.today(), config.trusted_registries, build_context, use_index)
    everywhere, per_line = pragmas(df)
    found: list[Finding] = []
    for rule in RULES:
        if _matches(rule, config.ignore) or _matches(rule, everywhere):
            continue
        for hit in rule.check(ctx):
            if _matches(rule, per_line.get(hit.line, ())):
                continue
            found.append(Finding(rule, hit.line, hit.message, hit.bytes, hit.stage, df.path))
    return Result(df.path, tuple(by_bytes(found)))


def by_bytes(findings: Iterable[Finding]) -> list[Finding]:
    """Largest first; unpriced last; then by line."""
    return sorted(findings, key=lambda f: (-(f.bytes or 0), f.bytes is None, f.line, f.rule.id))


def _table(data: dict[str, object], source: str) -> Config:
    known = {"ignore", "ignored", "trusted-registries", "trustedRegistries", "fail-on", "failure-threshold"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{source}: unknown lint setting(s): {', '.join(sorted(unknown))}")
    ignore = data.get("ignore", data.get("ignored", []))
    trusted = data.get("trusted-registries", data.get("trustedRegistries", []))
    fail_on = data.get("fail-on", data.get("failure-threshold"))
    if not isinstance(ignore, list) or not all(isinstance(i, str) for i in ignore):
        raise ConfigError(f"{source}: ignore must be a list of rule ids")
    if not isinstance(trusted, list) or not all(isinstance(i, str) for i in trusted):
        raise ConfigError(f"{source}: trusted-registries must be a list of registry hosts")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise ConfigError(f"{source}: fail-on must be one of {', '.join(SEVERITIES)}")
    return Config(frozenset(ignore), tuple(trusted), fail_on, source)


def load_config(start: Path, explicit: Path | None = None) -> Config:
    """The config nearest `start` (a directory): .pare-lint.toml, else pyproject's [tool.pare.lint]."""
    candidates = [explicit] if explicit else [
        p for d in [start, *start.parents] for p in (d / ".pare-lint.toml", d / "pyproject.toml")]
    for path in candidates:
        if path is None or not path.is_file():
            if explicit:
                raise UsageError(f"no config file at {explicit}")
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        if path.name == "pyproject.toml":
            table = data.get("tool", {}).get("pare", {}).get("lint")
            if table is None:
                continue
            return _table(table, f"{path} [tool.pare.lint]")
        return _table(data, str(path))
    return Config()


def fails(results: Iterable[Result], threshold: str) -> bool:
    """Whether any finding is at or above `threshold` (error > warning > info)."""
    limit = SEVERITIES.index(threshold)
    return any(SEVERITIES.index(f.rule.severity) <= limit for r in results for f in r.findings)


def known_rule(name: str) -> bool:
    return any(_matches(r, [name]) for r in RULES) or name.upper() in BY_HADOLINT
