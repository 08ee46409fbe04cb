#!/usr/bin/env bash
# Builds llama.cpp's llama-server (the reference for Benchmarks/serve_compare.py) from the llama.cpp sources inside
# llama-cpp-python's source package on PyPI, with cmake and ninja from PyPI, for this machine's CPU (GGML_NATIVE).
# Output: ~/.cache/vpgea/llama-server/build/bin/llama-server (built once; about 10 minutes on 2 cores).
set -euo pipefail
VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
DIR=${LLAMA_SERVER_DIR:-$HOME/.cache/vpgea/llama-server}
BIN="$DIR/build/bin/llama-server"
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
mkdir -p "$DIR"
[ -x "$DIR/venv/bin/cmake" ] || { python3 -m venv "$DIR/venv"; "$DIR/venv/bin/pip" install -q cmake ninja; }
if [ ! -d "$DIR/src" ]; then
    # The source package's address from PyPI's simple index (pip download would build its metadata first).
    url=$(curl -sSf "https://pypi.org/simple/llama-cpp-python/" | grep -o "https://[^\"#]*llama_cpp_python-$VERSION.tar.gz" | head -1)
    mkdir -p "$DIR/sdist" "$DIR/src"
    curl -sSfL "$url" -o "$DIR/sdist/llama-cpp-python-$VERSION.tar.gz"
    tar -xzf "$DIR/sdist/llama-cpp-python-$VERSION.tar.gz" -C "$DIR/src" --strip-components=1
fi
PATH="$DIR/venv/bin:$PATH" cmake -S "$DIR/src/vendor/llama.cpp" -B "$DIR/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >&2
PATH="$DIR/venv/bin:$PATH" cmake --build "$DIR/build" --target llama-server -j "$(nproc)" >&2
echo "$BIN"
