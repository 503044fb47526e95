// Section 1 of the page: the bundled model, or a Hugging Face folder from the user's disk (directory picker, an
// <input webkitdirectory>, or a folder dropped on the section); its architecture, size, dtype and parameter count
// shown before anything runs, or what is wrong with it, naming the file.
import { $, say } from './dom.js';
import { loadBundledModel } from './load.js';
import { type ModelFiles, openModelFiles } from './model/model-files.js';
import { fromDirectoryInput, fromDrop, hasDirectoryPicker, type PickedFolder, pickWithDirectoryPicker } from './model/pick-folder.js';

export interface LoadedModel extends ModelFiles {
  source: 'bundled' | 'folder';
}

let picked: PickedFolder | null = null;

/** `load` is the page's Load action (model and data); picking a folder runs it at once. */
export function initModelPanel(load: () => void): void {
  const source = $<HTMLSelectElement>('model');
  const controls = () => {
    $('model-folder-controls').hidden = source.value !== 'folder';
  };
  source.addEventListener('change', controls);
  const pickButton = $<HTMLButtonElement>('pick-folder');
  pickButton.hidden = !hasDirectoryPicker();
  pickButton.addEventListener('click', async () => {
    const folder = await pickWithDirectoryPicker().catch((e: Error) => {
      say('model-info', `The folder could not be read: ${e.message}`);
      return null;
    });
    if (folder) use(folder, load);
  });
  $<HTMLInputElement>('model-folder').addEventListener('change', (e) => {
    const list = (e.target as HTMLInputElement).files;
    if (list?.length) use(fromDirectoryInput(list), load);
  });
  const zone = $('model-section');
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dropping');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dropping'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dropping');
    if (!e.dataTransfer) return;
    source.value = 'folder';
    controls();
    void fromDrop(e.dataTransfer).then((folder) => use(folder, load));
  });
}

function use(folder: PickedFolder, load: () => void): void {
  picked = folder;
  load();
}

/** Opens the model the section names: the bundled one (fetched) or the folder picked. */
export async function openChosenModel(): Promise<LoadedModel> {
  const choice = $<HTMLSelectElement>('model').value;
  if (choice !== 'folder') return { ...(await loadBundledModel(choice)), source: 'bundled' };
  if (!picked) throw new Error('Model: choose a Hugging Face folder (config.json, model.safetensors or its shards, tokenizer.json) first');
  return { ...(await openModelFiles(picked.name, picked.files)), source: 'folder' };
}

/** The sentence the page shows about a model before anything runs. */
export function describeModel(m: ModelFiles): string {
  const s = m.summary;
  const shape = [s.layers !== null ? `${s.layers} layers` : null, s.width !== null ? `width ${s.width}` : null, s.context !== null ? `context ${s.context} tokens` : null].filter(Boolean).join(', ');
  const shards = m.weights.length > 1 ? ` in ${m.weights.length} shards` : '';
  return `${m.name}: ${s.modelType} (${s.architecture})${shape ? `, ${shape}` : ''}; ${s.parameters.toLocaleString('en-US')} parameters (${s.dtypes.join(', ')}), ${mib(s.bytes)}${shards}.`;
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
