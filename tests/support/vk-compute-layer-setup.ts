import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { buildVkComputeLayer, lavapipeIcd } from '../../tools/vk-compute-layer/build.mjs';

declare module 'vitest' {
  interface ProvidedContext {
    /** Why the webgpu-lavapipe project cannot run (the layer did not build, lavapipe is missing), or null. */
    lavapipeProblem: string | null;
  }
}

/**
 * globalSetup of the `webgpu-lavapipe` project (vitest.config.ts): builds the Vulkan layer its environment names
 * (instant when already built) before any test creates a Vulkan instance, and checks lavapipe's ICD. What is missing
 * is handed to tests/lavapipe/adapter-f16.test.ts, whose first test fails naming it, rather than thrown here: a throw
 * would abort every project's run and leave CI's report at 0 failed. (vitest.config.ts leaves the project out where
 * a piece is missing, except under CI=true.)
 */
export default function setup(project: TestProject): void {
  let problem: string | null = null;
  try {
    buildVkComputeLayer();
    const icd = lavapipeIcd();
    if (!existsSync(icd)) problem = `lavapipe's Vulkan ICD ${icd} is missing (Debian: apt-get install -y mesa-vulkan-drivers)`;
  } catch (e) {
    problem = (e as Error).message;
  }
  project.provide('lavapipeProblem', problem);
}
