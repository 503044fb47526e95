import type { Backend, BackendStorage } from '../backend/backend.js';
import { bytesPerElement, type DType } from '../dtype.js';
import { countStorage } from './accounting.js';

/**
 * One allocation on a backend, shared by every tensor that views it. Each tensor handle holds one reference;
 * the allocation goes back to the backend when the last handle is disposed.
 */
export class StorageRef {
  private refs = 1;

  constructor(
    readonly backend: Backend,
    readonly data: BackendStorage,
    readonly dtype: DType,
    readonly size: number,
  ) {
    countStorage(backend.name, dtype, size * bytesPerElement(dtype));
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) {
      this.backend.free(this.data);
      countStorage(this.backend.name, this.dtype, -this.size * bytesPerElement(this.dtype));
    }
  }

  get refCount(): number {
    return this.refs;
  }
}
