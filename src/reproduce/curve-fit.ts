/**
 * A model of accuracy against attack strength, fitted per bit width: a logistic decay from the clean accuracy to
 * a floor, acc(ε) = c + (a − c) / (1 + exp((ε − ε₀) / w)), with a = acc(0) held fixed, ε₀ the middle of the fall,
 * w its width and c the accuracy left at large ε (single-step attacks such as FGSM plateau above zero). For given
 * (ε₀, w) the model is linear in c, whose least-squares value (clamped to [0, a]) is taken in closed form; (ε₀,
 * log w) by a coarse grid and two finer grids around the best cell: deterministic, no starting point to tune.
 */
export interface LogisticFit {
  readonly clean: number;
  readonly eps0: number;
  readonly width: number;
  /** The accuracy the curve levels off at. */
  readonly floor: number;
  /** Root-mean-square residual over the fitted points, in accuracy units. */
  readonly rms: number;
}

function gate(eps0: number, width: number, eps: number): number {
  return 1 / (1 + Math.exp((eps - eps0) / width));
}

/** The best floor for (ε₀, w) and the squared error it leaves. */
function bestFloor(points: readonly { eps: number; acc: number }[], clean: number, eps0: number, width: number): { floor: number; err: number } {
  let num = 0;
  let den = 0;
  for (const p of points) {
    const g = gate(eps0, width, p.eps);
    num += (1 - g) * (p.acc - clean * g);
    den += (1 - g) * (1 - g);
  }
  const floor = den > 0 ? Math.min(clean, Math.max(0, num / den)) : 0;
  let err = 0;
  for (const p of points) {
    const g = gate(eps0, width, p.eps);
    err += (floor + (clean - floor) * g - p.acc) ** 2;
  }
  return { floor, err };
}

/** Fits the model to (ε, accuracy) points; the point at ε = 0 (or the largest accuracy) gives a. */
export function fitLogistic(points: readonly { eps: number; acc: number }[]): LogisticFit {
  const clean = points.find((p) => p.eps === 0)?.acc ?? Math.max(...points.map((p) => p.acc));
  const maxEps = Math.max(...points.map((p) => p.eps), 1e-3);
  let best = { eps0: maxEps / 2, logW: Math.log(maxEps / 10), floor: 0, err: Infinity };
  let span = { eps0: 2 * maxEps, logW: 6 };
  for (let round = 0; round < 3; round++) {
    const c = best;
    const steps = 40;
    for (let i = 0; i <= steps; i++) {
      const eps0 = round === 0 ? -0.5 * maxEps + (i / steps) * span.eps0 * 1.25 : c.eps0 + (i / steps - 0.5) * span.eps0;
      for (let j = 0; j <= steps; j++) {
        const logW = round === 0 ? Math.log(maxEps / 1000) + (j / steps) * span.logW * 1.6 : c.logW + (j / steps - 0.5) * span.logW;
        const { floor, err } = bestFloor(points, clean, eps0, Math.exp(logW));
        if (err < best.err) best = { eps0, logW, floor, err };
      }
    }
    span = { eps0: span.eps0 / 10, logW: span.logW / 10 };
  }
  return { clean, eps0: best.eps0, width: Math.exp(best.logW), floor: best.floor, rms: Math.sqrt(best.err / points.length) };
}
