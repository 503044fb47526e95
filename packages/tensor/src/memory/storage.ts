import type { Backend, BackendStorage } from '../backend/backend.js';
import type { DType } from '../dtype.js';

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
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.backend.free(this.data);
  }

  get refCount(): number {
    return this.refs;
  }
}
