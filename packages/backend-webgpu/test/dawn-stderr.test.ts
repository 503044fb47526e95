import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Dawn's diagnostics are written by native code to fd 2, not through process.stderr: the child below writes with
 * fs.writeSync(2, …), as native code does, the exact lines Dawn printed on this machine (no GPU, SwiftShader),
 * and lines that must survive. Run in a child so that the test's own stderr is never redirected.
 */
const module = fileURLToPath(new URL('../src/device/dawn-stderr.ts', import.meta.url));
const child = `
import { writeSync } from 'node:fs';
const { withDawnStderrFiltered } = await import(${JSON.stringify(module)});
await withDawnStderrFiltered(async () => {
  writeSync(2, 'Warning: vkCreateInstance: Found no drivers!\\n');
  writeSync(2, 'Warning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER\\n    at CheckVkSuccessImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/VulkanError.cpp:106)\\n');
  writeSync(2, 'Error: device lost: something real\\n');
  writeSync(2, 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 90 to 16 to fit dynamic offset allocation limit.\\n');
  process.stderr.write('from JavaScript\\n');
});
writeSync(2, 'Warning: vkCreateInstance: Found no drivers!\\n');
`;

describe.runIf(process.platform === 'linux')("Dawn's expected stderr lines during acquisition", () => {
  it('drops the known lines written to fd 2 while acquiring, keeps every other line in order, and restores fd 2', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    // The last line is written after the window: fd 2 is the real stderr again, nothing is filtered there.
    expect(r.stderr).toBe('Error: device lost: something real\nfrom JavaScript\nWarning: vkCreateInstance: Found no drivers!\n');
  });
});
