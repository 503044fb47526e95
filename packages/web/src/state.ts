// What the page exposes of itself, for the browser tests (and anyone curious, as globalThis.__siftWeb).

export interface PageState {
  phase: 'idle' | 'loading' | 'ready' | 'training' | 'done' | 'stopped' | 'failed';
  /** Every step's loss of the current run (a resumed run's earlier ones included). */
  losses: number[];
  backend?: string;
  tokensPerSecond?: number;
  error?: string;
  /** The step of the last save in the browser's storage, and which storage ('OPFS' or 'IndexedDB'). */
  savedStep?: number;
  storage?: string;
  /** The step a resumed run started from. */
  resumedFrom?: number;
  /** Steps of the run in all. */
  totalSteps?: number;
  /** Whether the service worker has stored the page for offline use (built pages only). */
  offline?: boolean;
  /** The try box's last answer: each class's probability. */
  classified?: { label: string; probability: number }[];
}

export const state: PageState = { phase: 'idle', losses: [] };
(globalThis as { __siftWeb?: PageState }).__siftWeb = state;
