"""pare: make container images small, and prove what that buys."""

import sys

__version__ = "0.1.0"

# httpx's package __init__ imports its own command-line tool (rich, pygments, click) unless that
# import fails. pare never runs it, and skipping it makes every registry command start 0.1-0.2 s
# sooner, which matters when a whole pull takes a fraction of a second. Done here, before any pare
# module can import httpx, and only when httpx is not loaded yet.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
