import { say } from './dom.js';
import { state } from './state.js';

/**
 * Registers the built page's service worker (vite.config.ts writes it; the dev server has none) and says on the
 * page once every file of the page is stored, so it opens and trains with no network.
 */
export async function registerOffline(): Promise<void> {
  if (import.meta.env.SIFT_SERVICE_WORKER !== true || !('serviceWorker' in navigator)) return;
  try {
    await navigator.serviceWorker.register('sw.js');
    // Ready: a worker is active, which means its install stored every file.
    await navigator.serviceWorker.ready;
    state.offline = true;
    say('offline-info', 'Works offline: the page and the bundled model and sample are stored in this browser.');
  } catch (e) {
    say('offline-info', `This page cannot be stored for offline use here (${(e as Error).message}).`);
  }
}
