import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAYER_DIR, lavapipeIcd } from '../../tools/vk-compute-layer/build.mjs';

/**
 * The `webgpu-lavapipe` project only (vitest.config.ts): VK_LAYER_SIFTJS_compute_features against lavapipe through the
 * Vulkan loader, checked by layer-check.c (compiled here with gcc) with one instance that enables the layer and one
 * that does not: what it reports is the driver's answer with exactly the two texture-array features set; the driver
 * refuses a device asking for them without the layer and accepts it with the layer, through pEnabledFeatures and
 * through a VkPhysicalDeviceFeatures2 deep in a pNext chain; the caller's structures are never written; a missing
 * feature the layer does not claim is still refused.
 */

const CHECKS = [
  'an instance without the layer',
  'an instance with the layer',
  'a physical device in each',
  'the driver lacks both texture-array features',
  'vkGetPhysicalDeviceFeatures reports both',
  'vkGetPhysicalDeviceFeatures changes nothing else',
  'vkGetPhysicalDeviceFeatures2 reports the same',
  "vkGetPhysicalDeviceFeatures2's chained structures are the driver's",
  'without the layer the driver refuses them (pEnabledFeatures)',
  'with the layer vkCreateDevice succeeds (pEnabledFeatures)',
  "the caller's pEnabledFeatures is unchanged",
  'without the layer the driver refuses them (VkPhysicalDeviceFeatures2)',
  'with the layer vkCreateDevice succeeds (VkPhysicalDeviceFeatures2)',
  "the caller's chain is unchanged, pNext pointers included",
  'the driver lacks sparseBinding',
  'with the layer an unclaimed missing feature is still refused (pEnabledFeatures)',
  'with the layer an unclaimed missing feature is still refused (VkPhysicalDeviceFeatures2)',
];

const dir = mkdtempSync(join(tmpdir(), 'sift-vk-layer-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('VK_LAYER_SIFTJS_compute_features on lavapipe', () => {
  it('lies about the two texture-array features only, and never writes the caller’s structures', () => {
    const binary = join(dir, 'layer-check');
    execFileSync('gcc', ['-std=c11', '-O1', '-Wall', '-Wextra', '-Werror', '-o', binary, join(__dirname, 'layer-check.c'), '-lvulkan'], { stdio: 'pipe' });
    // The check enables the layer itself on one of its two instances: VK_INSTANCE_LAYERS would put it on both.
    const env: NodeJS.ProcessEnv = { ...process.env, VK_ICD_FILENAMES: lavapipeIcd(), VK_LAYER_PATH: LAYER_DIR };
    delete env.VK_INSTANCE_LAYERS;
    const run = spawnSync(binary, [], { env, encoding: 'utf8', timeout: 60_000 });
    const lines = run.stdout.split('\n').filter(Boolean);
    expect(lines.filter((l) => !l.startsWith('ok '))).toEqual([]);
    expect(lines).toEqual(CHECKS.map((name) => `ok ${name}`));
    expect(run.status).toBe(0);
  });
});
