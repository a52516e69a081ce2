"""Where a native image's runtime comes from: Debian packages of a named suite, the npm registry's
official node builds, PyPI's pip. Each module resolves what a request needs into lock artifacts and
fetches (and checks) exactly those artifacts; nothing is ever taken from the build machine."""
