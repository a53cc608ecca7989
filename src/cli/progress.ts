/**
 * A progress bar with ETA for long work. It draws only when the stream is a TTY and CI is not set; otherwise
 * it stays silent (callers print their own summary lines), so logs in CI stay short.
 */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(s: string): boolean;
}

export function progressEnabled(stream: ProgressStream): boolean {
  return Boolean(stream.isTTY) && !process.env['CI'];
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

export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(
    private readonly stream: ProgressStream,
    private readonly total: number,
    private readonly label: string,
    private readonly width = 28,
  ) {
    this.enabled = progressEnabled(stream);
  }

  /** Redraws (at most ~10 times a second) with `done` units finished and an optional status text. */
  update(done: number, status = ''): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const filled = Math.round(frac * this.width);
    const elapsed = (now - this.start) / 1000;
    const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : Number.NaN;
    const bar = '█'.repeat(filled) + '░'.repeat(this.width - filled);
    this.stream.write(
      `\r${this.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${formatDuration(elapsed)} ETA ${formatDuration(eta)} ${status}\x1b[K`,
    );
  }

  done(): void {
    if (this.enabled) this.stream.write('\r\x1b[K');
  }
}
