#!/usr/bin/env bash
# System packages some tests use. Installs them when possible (root + apt); otherwise
# prints what is missing, and the tests that need them skip with the reason.
#   - Java (a JRE >= 17) for the PySpark engine tests (marker `spark`).
#   - Chromium for the report browser tests (marker `browser`).
#   - Noto CJK fonts so that Chinese labels render in figures and in the browser.
set -uo pipefail

missing=()
command -v java >/dev/null 2>&1 || missing+=("default-jre-headless")
command -v chromium >/dev/null 2>&1 || missing+=("chromium")
if ! ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1; then
  missing+=("fonts-noto-cjk")
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}"
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null 2>&1 \
    || echo "warning: could not install ${missing[*]}; the tests that need them will skip"
else
  echo "note: missing ${missing[*]} (not root or no apt-get); the tests that need them will skip"
fi
exit 0
