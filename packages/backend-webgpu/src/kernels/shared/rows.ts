/**
 * What the kernels over the rows of a contiguous [rows, cols] view share (softmax, softmaxBackward, layerNorm,
 * rmsNorm and their backwards): one workgroup per row, its invocations striding over the columns.
 */
import type { GpuRuntime } from '../../runtime.js';
import { LINEAR_GROUP, floorPow2, pu } from '../../wgsl/common.js';

/** Invocations per row: enough for the row, within the device's limits. */
export function rowsWorkgroup(rt: GpuRuntime, cols: number): number {
  return Math.max(1, Math.min(rt.wg, floorPow2(Math.max(32, cols))));
}

/** The entry point of a row kernel (parameter words 0 and 1 are rows and cols), up to `row` and `cols`. */
export function rowMain(wg: number): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let row = group;
    if (row >= ${pu(0)}) { return; }
    let cols = ${pu(1)};`;
}
