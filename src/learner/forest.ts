import { Rng } from '../core/prng.js';

/**
 * Random-forest regression of a slice series y₁..yₙ on its index x = 1..n, queried at x = n + 1:
 * the `RF` model of ALPS (paper Eq. 1; the artifact used scikit-learn's RandomForestRegressor with
 * 10 trees, bootstrap, full depth, squared error, one feature).
 *
 * Why our own code: ml-random-forest 2.1.0 (the maintained npm option) builds every tree in full;
 * fitting 10 trees on one-feature series took 14 ms (100 samples), 441 ms (1,000) and 15.9 s
 * (5,000) on this machine (median of 3, `noOOB: true`; with its default out-of-bag scoring it
 * throws "input must not be empty" as soon as a sample is in every bootstrap), far over the 60 ms
 * budget of a learning round (docs/learner.md). The query point
 * n + 1 lies right of every training x, so in each tree it always descends into the right child;
 * the prediction is therefore the value of each tree's right-most leaf. We grow only that path:
 * at each node we find the split a full CART would choose (best weighted-SSE reduction over
 * midpoints between consecutive distinct x, first best on ties, as scikit-learn scans) and follow
 * its right side until the node is pure or holds one distinct x. The result equals building the
 * whole tree and querying it, at O(n) per level instead of O(n log n) per tree.
 *
 * Bootstrap draws come from the seeded PRNG, so results are deterministic but not bit-identical
 * to scikit-learn's (its RNG stream cannot be reproduced).
 */
export function forestPredictNext(ys: ArrayLike<number>, trees: number, seed: number, stream = 'forest'): number {
  const n = ys.length;
  if (n === 0) return 0;
  if (n === 1) return ys[0]!;
  const rng = new Rng(seed, `learner:${stream}`);
  const counts = new Uint32Array(n);
  // Scratch for the points of the current node: original index, weight, weighted y, prefix sums.
  const idx = new Int32Array(n);
  let total = 0;
  for (let t = 0; t < trees; t++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[rng.below(n)]!++;
    let m = 0;
    for (let i = 0; i < n; i++) if (counts[i]! > 0) idx[m++] = i;
    total += rightmostLeaf(ys, counts, idx, m);
  }
  return total / trees;
}

/** Value of the right-most leaf grown from the node holding points idx[0..m) (sorted by x). */
function rightmostLeaf(ys: ArrayLike<number>, w: Uint32Array, idx: Int32Array, m: number): number {
  let lo = 0; // node = idx[lo..m)
  for (;;) {
    let W = 0;
    let S = 0;
    let Q = 0;
    for (let k = lo; k < m; k++) {
      const i = idx[k]!;
      const wi = w[i]!;
      const yi = ys[i]!;
      W += wi;
      S += wi * yi;
      Q += wi * yi * yi;
    }
    const leafValue = S / W;
    // Pure node (no split can reduce impurity) or a single distinct x: leaf.
    const sse = Q - (S * S) / W;
    if (m - lo < 2 || sse <= 1e-12 * Math.max(1, Q)) return leafValue;
    // Maximise S_L²/W_L + S_R²/W_R (equivalent to minimising the children's summed SSE).
    let best = -Infinity;
    let bestK = -1;
    let wl = 0;
    let sl = 0;
    for (let k = lo; k < m - 1; k++) {
      const i = idx[k]!;
      wl += w[i]!;
      sl += w[i]! * ys[i]!;
      const wr = W - wl;
      const sr = S - sl;
      const proxy = (sl * sl) / wl + (sr * sr) / wr;
      if (proxy > best) {
        best = proxy;
        bestK = k;
      }
    }
    if (bestK < 0 || best <= (S * S) / W + 1e-12 * Math.max(1, Q)) return leafValue;
    lo = bestK + 1;
  }
}
