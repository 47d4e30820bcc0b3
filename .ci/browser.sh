#!/usr/bin/env bash
# What the browser tests and the PDF reports need from Debian: Chromium (driven by Playwright's
# Python package through executable_path; Playwright never downloads a browser here), Japanese
# fonts for pages and reports in Japanese, Pango for WeasyPrint's PDF, poppler-utils to read a
# PDF back in the tests. Installs only what is missing.
#
#   eval "$(bash .ci/browser.sh)"        # prints: export LOGISTICS_TEST_CHROMIUM=/usr/bin/chromium
#
# stdout carries only the export line; progress goes to stderr.
set -euo pipefail

log() { echo "browser.sh: $*" >&2; }

packages=(chromium fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing the Debian packages ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
[ -x /usr/bin/chromium ] || { log "no /usr/bin/chromium after installing"; exit 1; }
log "$(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
echo "export LOGISTICS_TEST_CHROMIUM=/usr/bin/chromium"
