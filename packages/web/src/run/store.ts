/**
 * Where a run's files are kept between visits: the origin private file system (OPFS) where the browser has it,
 * IndexedDB otherwise. Each write replaces a whole file at once — OPFS's writable stream swaps its file in on
 * close, an IndexedDB put is one transaction — so a tab closed mid-write leaves the previous file as it was.
 */
export interface RunStore {
  readonly kind: 'OPFS' | 'IndexedDB';
  read(name: string): Promise<Blob | null>;
  write(name: string, data: Blob | Uint8Array | string): Promise<void>;
  remove(name: string): Promise<void>;
  names(): Promise<string[]>;
}

const FOLDER = 'siftjs-run';

/** The store of this browser: OPFS, or IndexedDB where OPFS is absent (or `prefer` says so). */
export async function openRunStore(prefer?: 'OPFS' | 'IndexedDB'): Promise<RunStore> {
  if (prefer !== 'IndexedDB') {
    try {
      const root = await navigator.storage.getDirectory();
      return opfs(await root.getDirectoryHandle(FOLDER, { create: true }));
    } catch (e) {
      if (prefer === 'OPFS') throw e;
    }
  }
  return idb(await openDb());
}

function opfs(dir: FileSystemDirectoryHandle): RunStore {
  return {
    kind: 'OPFS',
    async read(name) {
      try {
        return await (await dir.getFileHandle(name)).getFile();
      } catch (e) {
        if ((e as DOMException).name === 'NotFoundError') return null;
        throw e;
      }
    },
    async write(name, data) {
      const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
      try {
        await w.write(data as FileSystemWriteChunkType);
        await w.close();
      } catch (e) {
        await w.abort().catch(() => {});
        throw e;
      }
    },
    async remove(name) {
      await dir.removeEntry(name).catch((e: DOMException) => {
        if (e.name !== 'NotFoundError') throw e;
      });
    },
    async names() {
      const out: string[] = [];
      for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) out.push(key);
      return out;
    },
  };
}

const DB = 'siftjs-web';
const FILES = 'files';

function openDb(): Promise<IDBDatabase> {
  return new Promise((ok, fail) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(FILES);
    req.onsuccess = () => ok(req.result);
    req.onerror = () => fail(req.error);
  });
}

function idb(db: IDBDatabase): RunStore {
  const run = <T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> =>
    new Promise((ok, fail) => {
      const tx = db.transaction(FILES, mode);
      const req = fn(tx.objectStore(FILES));
      tx.oncomplete = () => ok(req.result);
      tx.onerror = () => fail(tx.error);
      tx.onabort = () => fail(tx.error);
    });
  return {
    kind: 'IndexedDB',
    async read(name) {
      const v = await run<Blob | undefined>('readonly', (s) => s.get(name));
      return v ?? null;
    },
    async write(name, data) {
      const blob = data instanceof Blob ? data : new Blob([data as BlobPart]);
      await run('readwrite', (s) => s.put(blob, name));
    },
    async remove(name) {
      await run('readwrite', (s) => s.delete(name));
    },
    async names() {
      return (await run<IDBValidKey[]>('readonly', (s) => s.getAllKeys())).map(String);
    },
  };
}
