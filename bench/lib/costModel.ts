// A linear cost model fitted by least squares: y = sum_i coef_i * x_i. Used by the devnet-scale
// benchmark to explain per-node CPU by vote rate and peer count, and to project it.

export interface LinearFit {
  coefficients: number[];
  /** Coefficient of determination over the fitted points. */
  r2: number;
}

/** Solves the normal equations (X^T X) b = X^T y by Gaussian elimination with partial pivoting. */
export function fitLinear(rows: readonly (readonly number[])[], ys: readonly number[]): LinearFit {
  const k = rows[0]?.length ?? 0;
  if (rows.length < k || k === 0) throw new RangeError(`need at least ${k} points to fit ${k} coefficients`);
  const a: number[][] = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  rows.forEach((x, r) => {
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++)
        (a[i] as number[])[j] = ((a[i] as number[])[j] as number) + (x[i] as number) * (x[j] as number);
      (a[i] as number[])[k] = ((a[i] as number[])[k] as number) + (x[i] as number) * (ys[r] as number);
    }
  });
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++)
      if (Math.abs((a[r] as number[])[col] as number) > Math.abs((a[pivot] as number[])[col] as number)) pivot = r;
    [a[col], a[pivot]] = [a[pivot] as number[], a[col] as number[]];
    const p = (a[col] as number[])[col] as number;
    if (Math.abs(p) < 1e-12) throw new RangeError("the points do not determine the model (collinear inputs)");
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const f = ((a[r] as number[])[col] as number) / p;
      for (let c = col; c <= k; c++)
        (a[r] as number[])[c] = ((a[r] as number[])[c] as number) - f * ((a[col] as number[])[c] as number);
    }
  }
  const coefficients = a.map((row, i) => (row[k] as number) / (row[i] as number));
  const mean = ys.reduce((s, y) => s + y, 0) / ys.length;
  let ssRes = 0;
  let ssTot = 0;
  rows.forEach((x, r) => {
    const predicted = predict(coefficients, x);
    ssRes += ((ys[r] as number) - predicted) ** 2;
    ssTot += ((ys[r] as number) - mean) ** 2;
  });
  return { coefficients, r2: ssTot === 0 ? 1 : 1 - ssRes / ssTot };
}

export function predict(coefficients: readonly number[], x: readonly number[]): number {
  return coefficients.reduce((s, c, i) => s + c * (x[i] as number), 0);
}
