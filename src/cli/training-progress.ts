/** A training run's progress on stderr (`train`, and QAT in `quantize`): a bar over all steps, a line per epoch. */
import { ProgressBar, type ProgressStream } from '../core/progress.js';
import type { EpochSummary, TrainProgress } from '../models/train.js';

export class TrainingProgress {
  private bar: ProgressBar | undefined;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
  ) {}

  /** Call when the run starts, once its size is known. */
  start(epochs: number, stepsPerEpoch: number): void {
    this.bar = new ProgressBar(this.stream, epochs * stepsPerEpoch, this.label);
  }

  readonly onStep = (p: TrainProgress): void => {
    this.bar?.update(
      p.epoch * p.stepsPerEpoch + p.step + 1,
      `epoch ${p.epoch + 1}/${p.epochs} loss ${p.loss.toFixed(4)} acc ${(p.accuracy * 100).toFixed(2)}% ${p.imagesPerSecond.toFixed(0)} img/s`,
    );
  };

  readonly onEpoch = (e: EpochSummary): void => {
    this.bar?.done();
    this.stream.write(`epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)}, train accuracy ${(e.accuracy * 100).toFixed(2)}%, ${e.seconds.toFixed(1)} s\n`);
  };
}
