// The three ways a user hands the page a model folder, each giving its top-level files by name: the directory picker
// (showDirectoryPicker, where the browser has it), an <input webkitdirectory>, or a folder dropped on the page.
// Files are Blobs: nothing is read here.

export interface PickedFolder {
  name: string;
  files: Map<string, File>;
}

interface DirectoryHandle {
  name: string;
  values(): AsyncIterable<{ kind: 'file' | 'directory'; name: string; getFile?: () => Promise<File> }>;
}

/** Whether the browser has the directory picker (Chromium's File System Access API). */
export const hasDirectoryPicker = (): boolean => typeof (globalThis as { showDirectoryPicker?: unknown }).showDirectoryPicker === 'function';

/** The folder the user picks, or null when they cancel. */
export async function pickWithDirectoryPicker(): Promise<PickedFolder | null> {
  let dir: DirectoryHandle;
  try {
    dir = await (globalThis as unknown as { showDirectoryPicker(o: object): Promise<DirectoryHandle> }).showDirectoryPicker({ mode: 'read' });
  } catch (e) {
    if ((e as DOMException).name === 'AbortError') return null;
    throw e;
  }
  const files = new Map<string, File>();
  for await (const entry of dir.values()) if (entry.kind === 'file' && entry.getFile) files.set(entry.name, await entry.getFile());
  return { name: dir.name, files };
}

/** The files of an <input webkitdirectory> (each named by its path in the folder): the folder's top level. */
export function fromDirectoryInput(list: FileList): PickedFolder {
  const files = new Map<string, File>();
  let name = 'the files picked';
  for (const f of Array.from(list)) {
    const parts = (f.webkitRelativePath || f.name).split('/');
    if (parts.length > 2) continue; // inside a subfolder: not part of a Hugging Face folder's top level
    if (parts.length === 2) name = parts[0];
    files.set(parts.at(-1) as string, f);
  }
  return { name, files };
}

/** A folder (or loose files) dropped on the page. */
export async function fromDrop(data: DataTransfer): Promise<PickedFolder> {
  const entries = Array.from(data.items, (item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  const dir = entries.length === 1 && entries[0].isDirectory ? (entries[0] as FileSystemDirectoryEntry) : null;
  if (!dir) return { name: 'the files dropped', files: new Map(Array.from(data.files, (f) => [f.name, f])) };
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries gives the entries in batches until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) break;
    all.push(...batch);
  }
  const files = new Map<string, File>();
  for (const e of all) if (e.isFile) files.set(e.name, await new Promise<File>((ok, fail) => (e as FileSystemFileEntry).file(ok, fail)));
  return { name: dir.name, files };
}
