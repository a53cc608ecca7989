/**
 * The machinery both `auto` pipelines (float IRs and integer programs, `auto.ts`) run on: one clock per case
 * (start, deadline, the time of each stage) and an ordered list of stages. A stage either decides the case (its
 * result ends the pipeline) or records what it established and hands on to the next; the result names the
 * deciding stage and carries every stage's record.
 */
import type { VerificationResult } from './property.js';

export interface StageRecord {
  readonly stage: string;
  readonly seconds: number;
  /** What the stage established, e.g. "3/9 disjuncts infeasible" or "counterexample". */
  readonly outcome: string;
}

export interface AutoResult extends VerificationResult {
  readonly stages: readonly StageRecord[];
}

export type StageVerdict = Omit<AutoResult, 'stages' | 'seconds'>;

/**
 * What a stage did: `note` is recorded under the stage's name (null: nothing to record, e.g. a guard that
 * stops before work); `result` ends the pipeline.
 */
export interface StageOutcome {
  readonly note: string | null;
  readonly result?: StageVerdict;
  /** The name to record the note under, when it is not the stage's (the complete stage: its method). */
  readonly as?: string;
}

export interface Stage<C> {
  readonly name: string;
  readonly run: (ctx: C, clock: StageClock) => StageOutcome | Promise<StageOutcome>;
}

/** The time of one case: its start, its deadline, and the records of the stages run so far. */
export class StageClock {
  readonly t0 = performance.now();
  readonly deadline: number;
  readonly stages: StageRecord[] = [];
  private last = this.t0;

  constructor(readonly limitSeconds: number) {
    this.deadline = this.t0 + limitSeconds * 1000;
  }

  elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** Seconds left before the deadline (≤ 0 once it has passed). */
  remaining(): number {
    return (this.deadline - performance.now()) / 1000;
  }

  /** The attack's own deadline: a tenth of the limit, at least one second, never past the case's. */
  attackDeadline(): number {
    return Math.min(this.deadline, performance.now() + Math.max(1000, this.limitSeconds * 100));
  }

  mark(stage: string, outcome: string): void {
    const now = performance.now();
    this.stages.push({ stage, seconds: (now - this.last) / 1000, outcome });
    this.last = now;
  }

  done(r: StageVerdict): AutoResult {
    return { ...r, seconds: this.elapsed(), stages: this.stages };
  }
}

/** Runs the stages in order until one decides; `fallback` is the result when none does. */
export async function runStages<C>(stages: readonly Stage<C>[], ctx: C, clock: StageClock, fallback: () => StageVerdict): Promise<AutoResult> {
  for (const stage of stages) {
    const out = await stage.run(ctx, clock);
    if (out.note !== null) clock.mark(out.as ?? stage.name, out.note);
    if (out.result) return clock.done(out.result);
  }
  return clock.done(fallback());
}
