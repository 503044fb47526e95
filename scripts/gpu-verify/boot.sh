#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, with .gpu carried there (npm run gpu:pack made it):
#   bash .gpu/boot.sh node --conditions=source --import tsx scripts/gpu-verify/main.ts
# Unpacks Node and node_modules, brings the Vulkan loader where the image has none, points Vulkan at NVIDIA's
# driver, then runs the command. No registry and no npm there: everything comes from .gpu.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ ! -x /tmp/gpu-node/bin/node ]; then
  mkdir -p /tmp/gpu-node/bin
  xz -dc .gpu/node.xz > /tmp/gpu-node/bin/node && chmod +x /tmp/gpu-node/bin/node
fi
export PATH=/tmp/gpu-node/bin:$PATH
[ -d node_modules/vitest ] || tar -xJf .gpu/modules.tar.xz
# The Vulkan loader, only where there is none: ldconfig may be outside PATH (/sbin), so the library files are looked
# for too, and the deb is never unpacked over a loader that is there.
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
if ! "$ldconfig" -p 2>/dev/null | grep -q 'libvulkan\.so\.1 ' && ! ls /usr/lib/x86_64-linux-gnu/libvulkan.so.1 /usr/lib64/libvulkan.so.1 >/dev/null 2>&1; then
  for f in .gpu/debs/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
  "$ldconfig" || true
fi
for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$f" ]; then export VK_DRIVER_FILES=${VK_DRIVER_FILES:-$f}; break; fi
done
echo "boot: node $(node --version) on $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
exec "$@"
