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
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in .gpu/debs/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
  ldconfig
fi
for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$f" ]; then export VK_DRIVER_FILES=${VK_DRIVER_FILES:-$f}; break; fi
done
echo "boot: node $(node --version) on $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
exec "$@"
