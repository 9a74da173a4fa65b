#!/usr/bin/env bash
# A release from a version tag: the charts to oci://ghcr.io/OWNER/charts, the platform image to
# ghcr.io/OWNER/mlplatform:VERSION, each signed with cosign (keyless: the CI job's OIDC identity).
#   release.sh TAG OWNER           check the versions agree and package every chart into dist/charts (RELEASE_DIR)
#   release.sh TAG OWNER --push    then build and push the image, push the charts, and sign them all
# It refuses, before anything leaves the machine, when the tag, chart versions, appVersions, image
# tags and the Python package disagree (ci/scripts/release.py). --push needs docker, cosign and
# logins to ghcr.io (docker login, helm registry login). PYTHON and HELM name the Python (with PyYAML) and
# the helm to use; by default, those `make setup` installs.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the release too
root="$(cd "$(dirname "$0")/../.." && pwd)"
usage="usage: release.sh TAG OWNER [--push]"
tag="${1:?$usage}"
owner="$(printf '%s' "${2:?$usage}" | tr '[:upper:]' '[:lower:]')"  # ghcr.io names are lowercase
push="${3:-}"
[ -z "$push" ] || [ "$push" = --push ] || { echo "$usage" >&2; exit 2; }
python="${PYTHON:-$root/.venv/bin/python}"
helm="${HELM:-$root/.tools/bin/helm}"
version="${tag#v}"
image="ghcr.io/$owner/mlplatform"
charts_repo="oci://ghcr.io/$owner/charts"
out="${RELEASE_DIR:-$root/dist/charts}"

listing="$("$python" "$root/ci/scripts/release.py" package "$tag" "$out" --image "$image" --helm "$helm")"
mapfile -t packages <<<"$listing"
printf 'packaged %s\n' "${packages[@]}"
if [ "$push" != --push ]; then
  echo "not pushed (add --push): $image:$version and ${#packages[@]} charts to $charts_repo"
  exit 0
fi

push_image() {  # prints the pushed image by digest
  local source
  source="$(sed -nE 's/^home:[[:space:]]*//p' "$root/charts/mlplatform/Chart.yaml")"
  docker build --label "org.opencontainers.image.source=$source" --label "org.opencontainers.image.version=$version" \
    -t "$image:$version" "$root" >&2
  docker push "$image:$version" >&2
  docker inspect --format '{{index .RepoDigests 0}}' "$image:$version"
}

push_chart() {  # $1: the package; prints the pushed chart by digest
  local name output digest
  name="$(basename "$1" "-$version.tgz")"
  output="$("$helm" push "$1" "$charts_repo" 2>&1)" || { echo "$output" >&2; return 1; }
  digest="$(sed -nE 's/^Digest:[[:space:]]*//p' <<<"$output")"
  [ -n "$digest" ] || { echo "error: helm push $1 printed no digest:" >&2; echo "$output" >&2; return 1; }
  echo "${charts_repo#oci://}/$name@$digest"
}

sign() {  # $1: an artifact by digest
  cosign sign --yes "$1" >&2
  echo "signed $1"
}

# The image first: a chart in the registry never names an image that is not there.
pushed="$(push_image)"
sign "$pushed"
for package in "${packages[@]}"; do
  pushed="$(push_chart "$package")"
  sign "$pushed"
done
echo "released $tag: $image:$version and ${#packages[@]} charts in $charts_repo"
