/** The public verification API: the IR, properties, bounds, complete methods, auto mode and the directory-level runs. */
export { applyStep, evaluateIR, matVec, stepInSize, stepOutSize, validateIR } from './ir.js';
export type { AffineStep, DenseMatrix, IRStep, Matrix, MaxPoolStep as IRMaxPoolStep, NetworkIR, QuantizeStep, ReluStep as IRReluStep, SparseMatrix } from './ir.js';
export { inBox, isUnsafe, localRobustnessCase } from './property.js';
export type {
  Box,
  Interval,
  LinearConstraint,
  NetworkBounds,
  UnsafeCondition,
  Verdict,
  VerificationCase,
  VerificationProblem,
  VerificationResult,
} from './property.js';
export { formatCounterexample, parseVnnlib, readVnnlib } from './vnnlib.js';
export { irFromOnnx, irFromOnnxBytes } from './onnx-network.js';
export { irFromModelDir, irFromPreparedGraph } from './from-model.js';
export { intervalBounds } from './ibp.js';
export { crownBounds, crownSpecLowerBounds, type CrownOptions } from './crown.js';

export { checkCounterexample, confirmCounterexample, float32InBox, recheckCounterexample, unsafeMargin, type CheckedCounterexample, type ModelCheck, type Recheck } from './counterexample.js';
export { evaluateExact, exactlyUnsafe } from './exact.js';
export { irInputGradient } from './ir-gradient.js';
export { attackIR, type IrAttackOptions, type IrAttackResult } from './ir-attack.js';
export { onnxModelCheck, type OnnxCheck } from './onnx-check.js';

export { encodeNetwork, type NetworkEncoding } from './milp/encode-network.js';
export { verifyCaseMilp, type MilpOptions, type MilpResult } from './milp/verify-milp.js';
export { verifyIntegerCaseMilp, type IntegerMilpOptions } from './milp/verify-integer-milp.js';
export { HighsRuntime, highsRuntime } from './milp/highs-runtime.js';

export { verifyCaseSmt, verifyIntegerCaseSmt, type IntegerSmtOptions, type RealSmtOptions } from './smt/verify-smt.js';
export { encodeRealNetwork } from './smt/encode-real.js';
export { encodeIntegerProgram, type RequantEncoding } from './smt/encode-integer.js';
export { releaseZ3 } from './smt/z3-runtime.js';

export { integerCase, checkIntegerCodes, checkIntegerPixels, type IntegerCounterexample, type IntegerVerificationCase } from './integer/integer-case.js';
export { codeBox, inputCode, pixelsForCodes, type CodeBox } from './integer/input-region.js';
export { integerIntervalBounds, type IntegerBounds } from './integer/interval.js';
export { integerCrownBounds } from './integer/crown-bounds.js';
export { integerRelaxation } from './integer/relaxation.js';
export { requantize, requantThresholds } from './integer/requant.js';
export { attackInteger } from './integer/attack.js';

export { verifyCaseAuto, verifyIntegerCaseAuto, verifyProblemAuto, type AutoOptions, type AutoResult, type IntegerAutoOptions } from './auto.js';
export { methodOptions, VERIFY_METHODS, type VerifyMethod } from './methods.js';
