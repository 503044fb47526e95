import cliProgress from 'cli-progress';

/**
 * A progress bar (cli-progress) showing steps, loss, tokens/s and ETA on a terminal; on anything else (CI logs,
 * pipes) one plain line every `every` steps, so logs stay readable.
 */
export class Progress {
  private readonly bar: cliProgress.SingleBar | null;
  private lastLine = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly every = Math.max(1, Math.round(total / 10)),
  ) {
    this.bar = out.isTTY
      ? new cliProgress.SingleBar(
          { format: `${label} {bar} {value}/{total} steps | loss {loss} | {tps} tok/s | ETA {eta_formatted}`, stream: out, hideCursor: true, etaBuffer: 20 },
          cliProgress.Presets.shades_classic,
        )
      : null;
    this.bar?.start(total, 0, { loss: '–', tps: '–' });
  }

  update(step: number, loss: number, tokensPerSecond: number): void {
    const payload = { loss: loss.toFixed(4), tps: Math.round(tokensPerSecond) };
    if (this.bar) this.bar.update(step, payload);
    else if (step - this.lastLine >= this.every || step === this.total) {
      this.lastLine = step;
      this.out.write(`${this.label} ${step}/${this.total} steps | loss ${payload.loss} | ${payload.tps} tok/s\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
