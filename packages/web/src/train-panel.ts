// Section 4 of the page: a run — started, or resumed from the browser's storage — on the backend chosen for this
// machine; its loss curve, tokens/s, memory, progress and time left as it goes; Stop; a save every few steps so a
// reload or a closed tab goes on from the last one.
import { finetuneInMemory, type InMemoryCheckpoint, type InMemoryResult } from '@siftjs/cli/browser';
import { SafetensorsFile } from '@siftjs/safetensors';
import { memoryStats } from '@siftjs/tensor';
import { type BackendWish, chooseBackend } from './backend-choice.js';
import { drawLosses } from './chart.js';
import type { ReadyData } from './data-panel.js';
import { $, say } from './dom.js';
import { type LoadedModel, mib } from './model-panel.js';
import { clearResult, showResult } from './result-panel.js';
import { beginRun, readSavedRun, type RunSettings, type SavedRun, saveCheckpoint, savedData, savedState } from './run/saved-run.js';
import { openRunStore, type RunStore } from './run/store.js';
import { describeSettings } from './settings.js';
import { state } from './state.js';

let stopRequested = false;
let store: RunStore | null = null;

/** The browser's store, opened once (`?storage=indexeddb` in the address asks for IndexedDB even where OPFS is). */
export async function runStore(): Promise<RunStore> {
  const prefer = new URLSearchParams(location.search).get('storage') === 'indexeddb' ? 'IndexedDB' : undefined;
  store ??= await openRunStore(prefer);
  state.storage = store.kind;
  return store;
}

export function requestStop(): void {
  stopRequested = true;
  say('train-info', 'Stopping after this step (its state is saved first)…');
}

/** The saved run, shown with its Resume button; null when there is none. */
export async function showSavedRun(): Promise<SavedRun | null> {
  const run = await readSavedRun(await runStore());
  const resume = $<HTMLButtonElement>('resume');
  resume.disabled = !run;
  state.savedStep = run?.step;
  if (!run) {
    say('resume-info', '');
    return null;
  }
  const where = `${run.model.source === 'bundled' ? 'the bundled ' : 'your folder '}${run.model.name}`;
  const at = run.step >= run.totalSteps ? `finished (${run.totalSteps} steps): Resume writes its result again` : `at step ${run.step} of ${run.totalSteps}`;
  say('resume-info', `Saved in this browser (${store?.kind}) on ${new Date(run.savedAt).toLocaleString()}: ${where} on ${run.data.name}, ${describeSettings(run.settings)}; ${at}.`);
  if (['idle', 'loading', 'ready'].includes(state.phase)) {
    // A page opened on a saved run shows where it stands: its progress and its curve so far.
    const progress = $<HTMLProgressElement>('progress');
    progress.max = run.totalSteps;
    progress.value = run.step;
    void drawLosses($('loss-chart'), run.settings.method, run.losses);
  }
  return run;
}

interface Run {
  model: LoadedModel;
  settings: RunSettings;
  backend: BackendWish;
  /** A new run's data; a resumed run's comes from the storage. */
  data?: ReadyData;
  resume?: SavedRun;
}

/** Trains (or resumes) a run to its end or a Stop; the result is offered when it ends. */
export async function runTraining(r: Run): Promise<void> {
  const [trainBtn, stopBtn, resumeBtn] = [$<HTMLButtonElement>('train'), $<HTMLButtonElement>('stop'), $<HTMLButtonElement>('resume')];
  trainBtn.disabled = true;
  resumeBtn.disabled = true;
  stopBtn.disabled = false;
  stopBtn.focus();
  stopRequested = false;
  state.phase = 'training';
  state.error = undefined;
  state.resumedFrom = r.resume?.step;
  state.savedStep = r.resume?.step;
  state.losses = [...(r.resume?.losses ?? [])];
  const evaluations = [...(r.resume?.evaluations ?? [])];
  $('evaluations').replaceChildren(...evaluations.map(evaluationItem));
  void drawLosses($('loss-chart'), r.settings.method, state.losses);
  clearResult();
  const progress = $<HTMLProgressElement>('progress');
  const chart = $('loss-chart');
  try {
    const s = await runStore();
    const choice = await chooseBackend(r.backend);
    state.backend = choice.name;
    say('backend-info', `Backend: ${choice.name === 'webgpu' ? 'WebGPU' : 'CPU'} — ${choice.reason}.`);
    const data = r.resume ? { name: r.resume.data.name, text: await savedData(s), rows: r.resume.data.rows, excluded: r.resume.data.excluded } : (r.data as ReadyData);
    if (!r.resume) await beginRun(s, data.text);
    const before = { seconds: r.resume?.seconds ?? 0, tokens: r.resume?.tokens ?? 0 };
    const run: Omit<SavedRun, 'stateFile' | 'step' | 'rng' | 'startLoss' | 'savedAt'> = {
      version: 1,
      model: { source: r.model.source, name: r.model.name, fingerprint: r.model.fingerprint },
      data: { name: data.name, rows: data.rows, excluded: data.excluded },
      settings: r.settings,
      totalSteps: 0,
      losses: [],
      evaluations,
      seconds: 0,
      tokens: 0,
    };
    const t0 = performance.now();
    let tokensNow = 0;
    const resume = r.resume ? { state: SafetensorsFile.fromBytes(`${r.resume.stateFile} (saved in this browser)`, await savedState(s, r.resume)), step: r.resume.step, rng: r.resume.rng, startLoss: r.resume.startLoss } : undefined;
    const result: InMemoryResult = await finetuneInMemory({
      model: { name: r.model.name, config: r.model.config, weights: r.model.weights, tokenizer: r.model.tokenizer, tokenizerConfig: r.model.tokenizerConfig },
      data: { name: data.name, text: data.text, format: 'jsonl' },
      method: r.settings.method,
      loraRank: r.settings.loraRank,
      density: r.settings.density,
      lr: r.settings.lr,
      epochs: r.settings.epochs,
      batchSize: r.settings.batchSize,
      maxLength: r.settings.maxLength,
      seed: r.settings.seed,
      heldOut: 0.1,
      resume,
      keepModel: true,
      checkpoint: {
        every: r.settings.saveEvery,
        save: async (c: InMemoryCheckpoint) => {
          const seconds = before.seconds + (performance.now() - t0) / 1000;
          await saveCheckpoint(s, { ...run, losses: state.losses.slice(0, c.step), seconds, tokens: before.tokens + tokensNow }, c);
          state.savedStep = c.step;
        },
      },
      onStep: (step, total, loss, tokens) => {
        run.totalSteps = total;
        state.totalSteps = total;
        state.losses.push(loss);
        tokensNow = tokens;
        progress.max = total;
        progress.value = step;
        const seconds = (performance.now() - t0) / 1000;
        const done = step - (r.resume?.step ?? 0);
        const left = (seconds / done) * (total - step);
        const mem = memoryStats();
        say('train-info', `Step ${step} of ${total}: loss ${loss.toFixed(4)}; ${(tokens / seconds).toFixed(0)} tokens/s; about ${left.toFixed(0)} s left; ${mib(mem.bytesInUse)} in use (peak ${mib(mem.peakBytes)}).${state.savedStep ? ` Saved at step ${state.savedStep}.` : ''}`);
        void drawLosses(chart, r.settings.method, state.losses);
      },
      onEpoch: (epoch, ev) => {
        const e = { ...ev, epoch };
        evaluations.push(e);
        $('evaluations').append(evaluationItem(e));
      },
      // Yield to the page between steps: it repaints and hears Stop.
      between: () => new Promise((ok) => setTimeout(ok, 0)),
      shouldStop: () => stopRequested,
    });
    await drawLosses(chart, r.settings.method, state.losses, { final: true });
    if (result.stopped) {
      state.phase = 'stopped';
      say('train-info', `Stopped at step ${result.step} of ${result.totalSteps}; saved in this browser (${s.kind}). Resume goes on from step ${result.step + 1}; Train starts over.`);
    } else {
      state.tokensPerSecond = result.tokensPerSecond;
      showResult(result, r.settings.method, r.model.name);
      state.phase = 'done';
      const resumed = r.resume ? `, resumed at step ${r.resume.step}` : '';
      const left = data.excluded ? `; ${data.excluded} rows of ${data.name} left out, as you chose` : '';
      say('train-info', `Done: ${result.totalSteps} steps${resumed}; this session ${result.losses.length} steps in ${result.seconds.toFixed(1)} s, ${result.tokensPerSecond.toFixed(0)} tokens/s; ${result.trainable.toLocaleString('en-US')} trainable parameters (${result.split.train} training examples, ${result.split.heldOut} held out${left}).`);
    }
  } catch (e) {
    state.phase = 'failed';
    state.error = e instanceof Error ? e.message : String(e);
    say('error', state.error);
  } finally {
    trainBtn.disabled = false;
    stopBtn.disabled = true;
    await showSavedRun().catch(() => {});
    if (state.phase !== 'done') (state.phase === 'stopped' ? resumeBtn : trainBtn).focus();
  }
}

function evaluationItem(ev: { epoch: number; loss: number; accuracy: number | null }): HTMLLIElement {
  const li = document.createElement('li');
  li.textContent = `Epoch ${ev.epoch + 1}: held-out loss ${ev.loss.toFixed(4)}${ev.accuracy === null ? '' : `, accuracy ${(100 * ev.accuracy).toFixed(1)}%`}`;
  return li;
}
