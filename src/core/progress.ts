/**
 * Progress on a terminal: one line redrawn in place, at most about ten times a second. It draws only when the
 * stream is a TTY outside CI; otherwise it stays silent (callers print their own summary lines), so logs in CI
 * stay short. `ProgressBar` draws a bar with elapsed time and ETA on such a line; downloads draw their own text.
 */
import { isCI } from './ci.js';

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(s: string): boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

export function progressEnabled(stream: ProgressStream, env: Env = process.env): boolean {
  return Boolean(stream.isTTY) && !isCI(env);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** One terminal line redrawn in place; silent where `progressEnabled` is false. */
export class ProgressLine {
  readonly enabled: boolean;
  private lastDraw = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly stream: ProgressStream,
    env: Env = process.env,
  ) {
    this.enabled = progressEnabled(stream, env);
  }

  /** Draws `text` (cut to the terminal's width), unless the last draw was under 100 ms ago and this one is not `final`. */
  draw(text: string, final = false): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (!final && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const shown = this.stream.columns ? text.slice(0, Math.max(20, this.stream.columns - 1)) : text;
    this.stream.write(`\r${shown}\x1b[K`);
  }

  /** Ends the line: keeps what it shows (`keep`) or wipes it. */
  end(keep: boolean): void {
    if (this.enabled) this.stream.write(keep ? '\n' : '\r\x1b[K');
  }
}

export class ProgressBar {
  private readonly start = performance.now();
  private readonly line: ProgressLine;

  constructor(
    stream: ProgressStream,
    private readonly total: number,
    private readonly label: string,
    private readonly width = 28,
  ) {
    this.line = new ProgressLine(stream);
  }

  /** Redraws with `done` units finished and an optional status text. */
  update(done: number, status = ''): void {
    if (!this.line.enabled) return;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const filled = Math.round(frac * this.width);
    const elapsed = (performance.now() - this.start) / 1000;
    const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : Number.NaN;
    const bar = '█'.repeat(filled) + '░'.repeat(this.width - filled);
    this.line.draw(`${this.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${formatDuration(elapsed)} ETA ${formatDuration(eta)} ${status}`, done >= this.total);
  }

  done(): void {
    this.line.end(false);
  }
}
