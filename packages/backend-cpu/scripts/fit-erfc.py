"""Fits the float64 Chebyshev series of erfc that rows-f32.wat evaluates (the `erfc`, `erf`, `gelu` and `geluGrad`
kernels) and prints them as WebAssembly text. Reference values from mpmath at 40 digits.

  [0, 1):   erfc(y) = 1 − y·A(2y² − 1)                 erf(y)/y as a series in y² (9 terms)
  [1, 3):   erfc(y) = e^(−y²)·B(y − 2)                 erfcx(y) = e^(y²)·erfc(y) as a series in y (15 terms)
  [3, 11):  erfc(y) = e^(−y²)·C((2/y − 14/33)·33/8)   erfcx as a series in 1/y (11 terms)
  [11, ∞):  0 in float32 terms (erfc(11) = 1.4e−54)
"""
import sys
import mpmath
import numpy as np
from numpy.polynomial import chebyshev as cheb

mpmath.mp.dps = 40


def fit(g, deg, n=2000):
    """Chebyshev series of g on [-1, 1] by interpolation at n Chebyshev points (least squares: near-minimax)."""
    u = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    return cheb.chebfit(u, np.array([float(g(mpmath.mpf(float(x)))) for x in u]), deg)


A = fit(lambda u: mpmath.erf(mpmath.sqrt((u + 1) / 2)) / mpmath.sqrt((u + 1) / 2) if u > -1 else 2 / mpmath.sqrt(mpmath.pi), 8)
B = fit(lambda u: mpmath.erfc(u + 2) * mpmath.exp((u + 2) ** 2), 14)
# t = 1/y in [1/11, 1/3]: u = (t − c)/h with c = (1/3 + 1/11)/2 = 7/33, h = (1/3 − 1/11)/2 = 4/33
C = fit(lambda u: (lambda y: mpmath.erfc(y) * mpmath.exp(y * y))(1 / (mpmath.mpf(7) / 33 + u * mpmath.mpf(4) / 33)), 10)


def clenshaw(c, u):
    b1 = b2 = 0.0
    for k in range(len(c) - 1, 0, -1):
        b1, b2 = 2 * u * b1 - b2 + c[k], b1
    return u * b1 - b2 + c[0]


def erfc_pos(y):
    if y < 1:
        return 1 - y * clenshaw(A, 2 * y * y - 1)
    if y < 3:
        return np.exp(-y * y) * clenshaw(B, y - 2)
    if y < 11:
        return np.exp(-y * y) * clenshaw(C, (1 / y - 7 / 33) * 33 / 4)
    return 0.0


def check():
    worst = 0
    for y in np.linspace(0, 10.99, 20001):
        exact = mpmath.erfc(mpmath.mpf(float(y)))
        worst = max(worst, float(abs((erfc_pos(float(y)) - exact) / exact)))
    worst_erf = 0
    for y in np.linspace(1e-6, 6, 20001):
        exact = mpmath.erf(mpmath.mpf(float(y)))
        got = y * clenshaw(A, 2 * y * y - 1) if y < 1 else 1 - erfc_pos(y)
        worst_erf = max(worst_erf, float(abs((got - exact) / exact)))
    return worst, worst_erf


def wat_series(name, c):
    """A function evaluating Σ c_k T_k(u) by Clenshaw's recurrence on both f64 lanes."""
    f = lambda v: f"(v128.const f64x2 {v!r} {v!r})"
    lines = [f"  (func ${name} (param $u v128) (result v128)", "    (local $u2 v128) (local $b1 v128) (local $b2 v128) (local $t v128)",
             "    (local.set $u2 (f64x2.add (local.get $u) (local.get $u)))", f"    (local.set $b1 {f(c[-1])})"]
    for k in range(len(c) - 2, 0, -1):
        lines.append(f"    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) {f(c[k])}))")
        lines.append("    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))")
    lines.append(f"    (f64x2.add (f64x2.sub (f64x2.mul (local.get $u) (local.get $b1)) (local.get $b2)) {f(c[0])}))")
    return "\n".join(lines)


if __name__ == "__main__":
    worst, worst_erf = check()
    print(f";; fit_erfc.py: erfc within {worst:.1e} relative on [0, 11), erf within {worst_erf:.1e}", file=sys.stderr)
    print(wat_series("chebErfA", A))
    print(wat_series("chebErfcxB", B))
    print(wat_series("chebErfcxC", C))
