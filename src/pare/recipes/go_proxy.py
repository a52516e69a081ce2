"""Where a Go build gets its modules, and whether that source answers, asked before `go build` is.

A module with dependencies and no vendor/ downloads them through GOPROXY (the user's, as the go
command reads it; default proxy.golang.org, then `direct` from the module's own host). On a machine
that reaches neither, `go build` waits on each connection before failing with a page of text. pare
asks first, with a short timeout: the build goes ahead when every required module is already in
pare's module cache, or when the first source in GOPROXY's list that is not `off` answers for a
missing module (a proxy's `@v/VERSION.info`, a `file://` tree, or for `direct` the module host's
`?go-get=1` page); otherwise it stops with one line naming GOPROXY and `go mod vendor`.

The settings that choose the source (GOPROXY, GOFLAGS, GOPRIVATE, GONOPROXY, GONOSUMDB, GOSUMDB,
GOINSECURE) come from the user's environment, as the go command takes them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from pare.errors import UsageError
from pare.recipes.go_project import GoMod

DEFAULT_GOPROXY = "https://proxy.golang.org,direct"
PASSED_SETTINGS = ("GOPROXY", "GOFLAGS", "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOSUMDB", "GOINSECURE")
PROBE_TIMEOUT = 5.0  # seconds for one source to answer; go's own wait is minutes


def go_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The user's module-source settings (only those set, non-empty)."""
    return {k: environ[k] for k in PASSED_SETTINGS if environ.get(k, "").strip()}


def proxy_list(goproxy: str | None) -> list[str]:
    """GOPROXY's entries in order (`,` and `|` both separate them; `off` ends the list)."""
    entries = [e.strip() for e in re.split(r"[,|]", goproxy or DEFAULT_GOPROXY) if e.strip()]
    return entries[: entries.index("off") + 1] if "off" in entries else entries


def private(module: str, settings: Mapping[str, str]) -> bool:
    """Whether GONOPROXY (else GOPRIVATE) names the module: go then fetches it `direct`."""
    patterns = settings.get("GONOPROXY", settings.get("GOPRIVATE", ""))
    parts = module.split("/")
    for pattern in (p.strip() for p in patterns.split(",") if p.strip()):
        depth = pattern.count("/") + 1
        if len(parts) >= depth and fnmatch.fnmatchcase("/".join(parts[:depth]), pattern):
            return True
    return False


def escape_path(path: str) -> str:
    """The module proxy protocol's case encoding: an upper-case letter becomes `!` + lower case."""
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), path)


def cached(modcache: Path, module: str, version: str) -> bool:
    """Whether the module's zip is already in the module cache (GOMODCACHE)."""
    versions = modcache / "cache" / "download" / escape_path(module) / "@v"
    return (versions / f"{escape_path(version)}.zip").is_file()


def answers(entry: str, module: str, version: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """None when this GOPROXY entry can serve module@version, else why not (a few words)."""
    if entry == "off":
        return "GOPROXY is off"
    if entry == "direct":
        url = f"https://{module}?go-get=1"
    elif entry.startswith("file://"):
        root = Path(unquote(urlsplit(entry).path))
        info = root / escape_path(module) / "@v" / f"{escape_path(version)}.info"
        return None if info.is_file() else f"{entry} has no {module} {version}"
    else:
        url = f"{entry.rstrip('/')}/{escape_path(module)}/@v/{escape_path(version)}.info"
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        return f"{url}: {type(exc).__name__}"
    if entry == "direct":
        return None if response.status_code < 500 else f"{url}: HTTP {response.status_code}"
    return None if response.status_code == 200 else f"{url}: HTTP {response.status_code}"


def check_module_source(app_dir: Path, go_mod: GoMod, settings: Mapping[str, str], modcache: Path) -> None:
    """UsageError in one line when the build needs modules that no source in GOPROXY can give."""
    missing = sorted((m, v) for m, v in go_mod.requires.items() if not cached(modcache, m, v))
    if not missing:
        return
    module, version = missing[0]
    reasons = []
    entries = ["direct"] if private(module, settings) else proxy_list(settings.get("GOPROXY"))
    for entry in entries:
        reason = answers(entry, module, version)
        if reason is None:
            return
        reasons.append(reason)
    count = len(go_mod.requires)
    goproxy = settings.get("GOPROXY", f"{DEFAULT_GOPROXY} (the default)")
    raise UsageError(f"{app_dir}: go.mod requires {count} module{'s' * (count != 1)}, there is no vendor/ "
                     f"and no module source answers (GOPROXY={goproxy}; {reasons[-1]}); run `go mod vendor` "
                     "and keep vendor/ with the app, or set GOPROXY to a proxy this machine reaches")
