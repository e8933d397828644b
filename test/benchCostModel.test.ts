// The devnet-scale benchmark's least-squares fit: it must recover a known linear model exactly and
// refuse inputs that cannot determine it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fitLinear, predict } from "../bench/lib/costModel.ts";

describe("bench cost model", () => {
  it("recovers y = 0.02 + 0.001 x1 + 0.003 x2 from exact points, r2 = 1", () => {
    const xs = [
      [1, 8, 3],
      [1, 16, 7],
      [1, 64, 7],
      [1, 64, 15],
      [1, 256, 15],
    ];
    const ys = xs.map((x) => 0.02 + 0.001 * (x[1] as number) + 0.003 * (x[2] as number));
    const fit = fitLinear(xs, ys);
    const [a, b, c] = fit.coefficients as [number, number, number];
    assert.ok(Math.abs(a - 0.02) < 1e-9 && Math.abs(b - 0.001) < 1e-9 && Math.abs(c - 0.003) < 1e-9);
    assert.ok(Math.abs(fit.r2 - 1) < 1e-9);
    assert.ok(Math.abs(predict(fit.coefficients, [1, 2500, 99]) - (0.02 + 2.5 + 0.297)) < 1e-9);
  });

  it("refuses too few points and collinear inputs", () => {
    assert.throws(() => fitLinear([[1, 2, 3]], [1]), RangeError);
    assert.throws(
      () =>
        fitLinear(
          [
            [1, 2, 4],
            [1, 3, 6],
            [1, 4, 8],
          ],
          [1, 2, 3],
        ),
      RangeError,
    );
  });
});
