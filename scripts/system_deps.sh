#!/usr/bin/env bash
# The system packages the tests drive, installed with apt-get where they are missing:
#   chromium, chromium-driver  tests/test_human_eval.py rates a sheet in a real browser (tests/sheet_browser.py)
#   fonts-wqy-zenhei           a CJK font, so that browser's screenshot shows the poems
#   postgresql                 tests/test_tune.py starts a throwaway server for `seqgan tune --storage postgresql://`
# As root (or with password-less sudo) it installs what is missing; later runs only check. Where it
# cannot (no root, no apt-get) it says so and the tests that need the package skip with one line
# naming this command, except under CI=true, where they fail.
set -euo pipefail

missing=()
# the paths tests/sheet_browser.py starts (SEQGAN_CHROMIUM and SEQGAN_CHROMEDRIVER move them)
[ -x "${SEQGAN_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
[ -x "${SEQGAN_CHROMEDRIVER:-/usr/bin/chromedriver}" ] || missing+=(chromium-driver)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)
# tests/test_tune.py looks for initdb on PATH or in Debian's versioned directory
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    missing+=(postgresql)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

ci() { [ "${CI:-}" = true ]; }
if [ "$(id -u)" = 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
else
    sudo=none
fi
if [ "$sudo" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts/system_deps.sh: ${missing[*]} missing and this is not root with apt-get;" \
         "the tests that need them $(ci && echo fail || echo skip). To install: sudo apt-get install ${missing[*]}" >&2
    ci && exit 1
    exit 0
fi
echo "scripts/system_deps.sh: installing ${missing[*]}" >&2
if ! { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    echo "scripts/system_deps.sh: apt-get could not install ${missing[*]};" \
         "the tests that need them $(ci && echo fail || echo skip)" >&2
    ci && exit 1
fi
exit 0
