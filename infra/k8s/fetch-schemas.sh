#!/usr/bin/env bash
# Offline Kubernetes JSON schemas for kubeconform (test/k8s-manifests.test.ts), from the PyPI
# wheel `kubernetes-validate`, which bundles them: this machine reaches package registries but not
# GitHub, where kubeconform would fetch them from. Unpacks one Kubernetes version's strict schemas
# into $RECO_K8S_SCHEMAS (default ~/.cache/reco/k8s-schemas) once; does nothing when they are there.
#
# The wheel's schemas refer to their shared definitions as "/api/_definitions.json", resolved
# against an https://kubernetes.io/ $id, which kubeconform would try to download. They are
# rewritten to refer to the _definitions.json beside them, so everything resolves on disk.
set -euo pipefail

wheel_version=1.37.0       # kubernetes-validate release; it holds v1.25.0 ... v1.37.0
k8s_version=1.33.0         # keep equal to K8S_VERSION in test/k8s-manifests.test.ts
dest="${RECO_K8S_SCHEMAS:-$HOME/.cache/reco/k8s-schemas}"
folder="v${k8s_version}-local-strict"
marker="$dest/$folder/.complete-kubernetes-validate-$wheel_version"

if [ -f "$marker" ]; then
  exit 0
fi
python=$(command -v python3 || true)
if [ -z "$python" ] || ! "$python" -m pip --version >/dev/null 2>&1; then
  echo "fetch-schemas: python3 with pip is needed to download kubernetes-validate" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m pip download --quiet --no-deps --disable-pip-version-check -d "$work" "kubernetes-validate==$wheel_version"
mkdir -p "$dest"
"$python" - "$work"/kubernetes_validate-*.whl "$dest" "$folder" <<'PY'
import json, os, shutil, sys, zipfile

wheel, dest, folder = sys.argv[1:4]
prefix = f"kubernetes_validate/kubernetes-json-schema/{folder}/"
staging = os.path.join(dest, f".{folder}.partial")
shutil.rmtree(staging, ignore_errors=True)
os.makedirs(staging)
count = 0
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if not name.startswith(prefix) or not name.endswith(".json"):
            continue
        schema = json.loads(archive.read(name))
        if os.path.basename(name) != "_definitions.json":
            schema.pop("$id", None)
        text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
        with open(os.path.join(staging, os.path.basename(name)), "w") as out:
            out.write(text)
        count += 1
if count == 0:
    sys.exit(f"fetch-schemas: {wheel} has no {prefix}")
target = os.path.join(dest, folder)
shutil.rmtree(target, ignore_errors=True)
os.rename(staging, target)
print(f"fetch-schemas: {count} schemas of Kubernetes {folder} in {target}")
PY
touch "$marker"
