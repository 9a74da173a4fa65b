#!/usr/bin/env bash
# Re-fetch the vendored browser libraries at their exact versions from the npm registry (`npm pack`).
# The dashboard serves these built files itself: no CDN at run time, so it works offline.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent @dagrejs/dagre@3.1.3 echarts@6.1.0 >/dev/null
tar xzf dagrejs-dagre-3.1.3.tgz && cp package/dist/dagre.min.js "$here/" && cp package/LICENSE "$here/dagre.LICENSE" && rm -rf package
tar xzf echarts-6.1.0.tgz && cp package/dist/echarts.min.js "$here/" && cp package/LICENSE "$here/echarts.LICENSE" \
  && cp package/NOTICE "$here/echarts.NOTICE"
echo "vendored: @dagrejs/dagre 3.1.3, echarts 6.1.0 in $here"
