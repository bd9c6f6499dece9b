# Sourced by scripts/demo and scripts/test: find or install uv and a Python >= 3.11, no downloads of
# Python itself (uv would try; this machine's only network is the package registries).
export UV_PYTHON_DOWNLOADS=never

find_python() {
    for candidate in python3.11 python3.12 python3.13 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            "$candidate" -c 'import sys; print(sys.executable)'  # the real path, not a pyenv shim
            return 0
        fi
    done
    echo "plentysync needs Python 3.11 or newer; none found on PATH" >&2
    return 1
}

ensure_uv() {
    PYTHON=$(find_python)
    export UV_PYTHON="$PYTHON"
    if command -v uv >/dev/null 2>&1; then
        UV=$(command -v uv)
    elif [ -x .tools/bin/uv ]; then
        UV=.tools/bin/uv
    else
        echo "==> installing uv into .tools/ (a private virtualenv)" >&2
        "$PYTHON" -m venv .tools
        .tools/bin/pip install --quiet --disable-pip-version-check uv
        UV=.tools/bin/uv
    fi
}
