/**
 * A two-parameter model of accuracy against attack strength, fitted per bit width: a logistic decay from the
 * clean accuracy, acc(ε) = a / (1 + exp((ε − ε₀) / w)) with a = acc(0) held fixed, ε₀ the strength at which half
 * of the clean accuracy is left, w the width of the fall. Least squares by a coarse grid over (ε₀, log w) and two
 * finer grids around the best cell: deterministic, no starting point to tune.
 */
export interface LogisticFit {
  readonly clean: number;
  readonly eps0: number;
  readonly width: number;
  /** Root-mean-square residual over the fitted points, in accuracy units. */
  readonly rms: number;
}

function logistic(clean: number, eps0: number, width: number, eps: number): number {
  return clean / (1 + Math.exp((eps - eps0) / width));
}

function sse(points: readonly { eps: number; acc: number }[], clean: number, eps0: number, width: number): number {
  let s = 0;
  for (const p of points) s += (logistic(clean, eps0, width, p.eps) - p.acc) ** 2;
  return s;
}

/** Fits the model to (ε, accuracy) points; the point at ε = 0 (or the largest accuracy) gives a. */
export function fitLogistic(points: readonly { eps: number; acc: number }[]): LogisticFit {
  const clean = points.find((p) => p.eps === 0)?.acc ?? Math.max(...points.map((p) => p.acc));
  const maxEps = Math.max(...points.map((p) => p.eps), 1e-3);
  let best = { eps0: maxEps / 2, logW: Math.log(maxEps / 10), err: Infinity };
  let span = { eps0: 2 * maxEps, logW: 6 };
  for (let round = 0; round < 3; round++) {
    const c = best;
    const steps = 40;
    for (let i = 0; i <= steps; i++) {
      const eps0 = round === 0 ? -0.5 * maxEps + (i / steps) * span.eps0 * 1.25 : c.eps0 + ((i / steps) - 0.5) * span.eps0;
      for (let j = 0; j <= steps; j++) {
        const logW = round === 0 ? Math.log(maxEps / 1000) + (j / steps) * span.logW * 1.6 : c.logW + ((j / steps) - 0.5) * span.logW;
        const err = sse(points, clean, eps0, Math.exp(logW));
        if (err < best.err) best = { eps0, logW, err };
      }
    }
    span = { eps0: span.eps0 / 10, logW: span.logW / 10 };
  }
  return { clean, eps0: best.eps0, width: Math.exp(best.logW), rms: Math.sqrt(best.err / points.length) };
}
