/**
 * How the local model's inference thread cuts a request into forward passes. A pass pads every
 * text to its longest, and its activations (attention scores grow with texts × length²) set the
 * memory onnxruntime keeps for the next pass, so passes are made of texts of about the same
 * length (sorted by length) and hold at most `budget` padded tokens: many short texts in one
 * pass, long ones in passes of one or two. A text longer than the budget goes alone.
 */
export function planPasses(lengths: readonly number[], budget: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const passes: number[][] = [];
  let pass: number[] = [];
  for (const i of order) {
    // Sorted ascending: the text joining a pass is its longest, so the pass pads to its length.
    if (pass.length > 0 && (pass.length + 1) * lengths[i]! > budget) {
      passes.push(pass);
      pass = [];
    }
    pass.push(i);
  }
  if (pass.length > 0) passes.push(pass);
  return passes;
}
