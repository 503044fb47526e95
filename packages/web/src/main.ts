// The page: a model (bundled, or the user's folder) and data (bundled, or the user's file), a method and its
// settings, a run on the backend chosen for this machine that survives a reload, and its result to download or try.
import type { BackendWish } from './backend-choice.js';
import { initDataPanel, loadBundled, readyData } from './data-panel.js';
import { $, say } from './dom.js';
import { describeModel, initModelPanel, type LoadedModel, openChosenModel } from './model-panel.js';
import { registerOffline } from './offline.js';
import { initResultPanel } from './result-panel.js';
import { readSettings, showMethodControls, writeSettings } from './settings.js';
import { state } from './state.js';
import { requestStop, runTraining, showSavedRun } from './train-panel.js';

let model: LoadedModel | null = null;

function fail(e: unknown): void {
  state.phase = 'failed';
  state.error = e instanceof Error ? e.message : String(e);
  say('error', state.error);
}

const context = (m: LoadedModel) => Number(m.summary.context ?? 128);

async function load(): Promise<void> {
  say('error', '');
  state.phase = 'loading';
  $<HTMLButtonElement>('load').disabled = true;
  say('model-info', 'Loading…');
  try {
    [model] = await Promise.all([openChosenModel(), loadBundled()]);
    say('model-info', describeModel(model));
    $<HTMLInputElement>('max-length').max = String(context(model));
    state.phase = 'ready';
    $<HTMLButtonElement>('train').disabled = false;
    $<HTMLButtonElement>('train').focus();
  } catch (e) {
    model = null;
    $<HTMLButtonElement>('train').disabled = true;
    say('model-info', '');
    fail(e);
  } finally {
    $<HTMLButtonElement>('load').disabled = false;
  }
}

async function train(): Promise<void> {
  if (!model) return;
  say('error', '');
  const data = readyData();
  if ('why' in data) return fail(new Error(`Data: ${data.why}.`));
  let settings;
  try {
    settings = readSettings(context(model));
  } catch (e) {
    return fail(e);
  }
  await runTraining({ model, settings, data, backend: $<HTMLSelectElement>('backend').value as BackendWish });
}

/** Resumes the run saved in this browser: its model loaded again (the bundled one, or the same folder picked). */
async function resume(): Promise<void> {
  say('error', '');
  const run = await showSavedRun();
  if (!run) return fail(new Error('Resume: no run is saved in this browser'));
  if (run.model.source === 'bundled' && (model?.source !== 'bundled' || model.name !== run.model.name)) {
    $<HTMLSelectElement>('model').value = run.model.name;
    await load();
  }
  if (!model) return;
  if (model.fingerprint !== run.model.fingerprint) {
    const how = run.model.source === 'folder' ? `choose the folder ${run.model.name} under Model, then Resume` : 'the bundled model changed since';
    return fail(new Error(`Resume: the saved run was trained on ${run.model.name}, and the model loaded is not that one (${how})`));
  }
  writeSettings(run.settings);
  await runTraining({ model, settings: run.settings, resume: run, backend: $<HTMLSelectElement>('backend').value as BackendWish });
}

initModelPanel(() => void load());
initDataPanel(() => {});
initResultPanel();
$('load').addEventListener('click', () => void load());
$('train').addEventListener('click', () => void train());
$('resume').addEventListener('click', () => void resume());
$('stop').addEventListener('click', requestStop);
$('method').addEventListener('change', showMethodControls);
showMethodControls();
void showSavedRun().catch((e) => say('resume-info', `The browser's storage cannot be read (${(e as Error).message}): runs are not saved.`));
void registerOffline();
