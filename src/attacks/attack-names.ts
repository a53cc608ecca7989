/**
 * The registered attacks' names in registry order (white-box, score-based, decision-based, the ensemble). They
 * stand apart from the attacks so that the CLI's help loads none of them; `registry.ts` refuses to load when the
 * two lists disagree.
 */
export const ATTACK_NAMES: readonly string[] = [
  'fgsm', 'bim', 'pgd', 'mim', 'apgd-ce', 'apgd-dlr', 'apgd-t', 'cw-l2', 'deepfool', 'fab', 'fab-t', 'square', 'spsa', 'hopskipjump', 'auto',
];
