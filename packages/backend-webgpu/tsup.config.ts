import { defineConfig } from 'tsup';
import base from '../../tsup.base.js';

// The declarations name WebGPU's types (GPUDevice…): keep the reference that brings them to a consumer.
export default defineConfig({ ...(base as object), dts: { banner: '/// <reference types="@webgpu/types" />' } });
