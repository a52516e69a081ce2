#!/bin/sh
# Add pare's shell completion to a venv's activate scripts (bash and zsh: activate; fish: activate.fish).
# Idempotent: `make venv` runs it after installing pare. Usage: scripts/install-completion.sh VENV
set -eu
venv=$(cd "${1:-.venv}" && pwd)
pare="$venv/bin/pare"
marker="# pare shell completion (scripts/install-completion.sh)"
if ! grep -qF "$marker" "$venv/bin/activate"; then
    cat >> "$venv/bin/activate" <<EOS

$marker
if [ -n "\${BASH_VERSION:-}" ]; then
    eval "\$("$pare" completion bash)"
elif [ -n "\${ZSH_VERSION:-}" ] && command -v compdef >/dev/null 2>&1; then
    eval "\$("$pare" completion zsh)"
fi
EOS
fi
if [ -f "$venv/bin/activate.fish" ] && ! grep -qF "$marker" "$venv/bin/activate.fish"; then
    printf '\n%s\n"%s" completion fish | source\n' "$marker" "$pare" >> "$venv/bin/activate.fish"
fi
