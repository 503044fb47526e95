"""Fits the float32 polynomials rows-f32.wat evaluates and prints them as WebAssembly text, with the worst error of
each one evaluated the kernel's way in float32 (numpy), against mpmath at 30 digits. Run with Debian's python3
(numpy, mpmath): /usr/bin/python3 scripts/fit-f32.py

  exp:   e^r = 1 + (r + r²·P(r)),  r in [−ln2/2, ln2/2]                        P: degree 4
  tanh:  tanh(x) = x + x·(s·Q(s)),  s = x², |x| < 0.625                        Q: degree 4
  erf:   erf(y) = y·A(y²),  y in [0, 1)                                         A: degree 6
  erfc:  erfc(y) = e^(−y²)·B(y),  y in [0.5, 2): B(y) = B1(y − 1.25)          B1: degree 10
                                  y in [2, 10.2]: B(y) = t·B2(t), t = 1/y       B2: degree 10
         (the kernel takes erf from A below 1 and erfc from B from 0.5: 1 − erf cancels towards 1, 1 − erfc
         towards 0.5 — each form is used where the other would lose digits)

Each fit is near-minimax in relative error (Lawson's reweighted least squares on Chebyshev nodes); its
coefficients are then rounded to float32, which is what the kernel holds.
"""
import mpmath
import numpy as np

mpmath.mp.dps = 30
f32 = np.float32


def nodes(a, b, n=4000):
    u = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    return (a + b) / 2 + (b - a) / 2 * u


def lawson(xs, g, basis, w, iters=300):
    """Coefficients c minimising max |w·(Σ c_k·basis_k(x) − g)| over xs, by Lawson's reweighting."""
    a = np.array([[b(x) for b in basis] for x in xs]) * w[:, None]
    rhs = g * w
    lw = np.ones(len(xs)) / len(xs)
    c = None
    for _ in range(iters):
        sw = np.sqrt(lw)
        c, *_ = np.linalg.lstsq(a * sw[:, None], rhs * sw, rcond=None)
        e = np.abs(a @ c - rhs)
        lw = lw * e
        lw /= lw.sum()
    return [f32(v) for v in c]


def horner(c, u):
    """Σ c_k u^k in float32, highest power first, one rounding per multiply and add (as the kernel)."""
    p = c[-1]
    for k in range(len(c) - 2, -1, -1):
        p = f32(f32(p * u) + c[k])
    return p


def fit_all():
    h = float(mpmath.log(2)) / 2
    xs = nodes(-h, h)
    g = np.array([float((mpmath.exp(mpmath.mpf(x)) - 1 - x) / mpmath.mpf(x) ** 2) for x in xs])
    P = lawson(xs, g, [lambda x, k=k: x ** k for k in range(5)], np.array([x * x / np.exp(x) for x in xs]))

    xs = nodes(0, 0.625)
    g = np.array([float((mpmath.tanh(mpmath.mpf(x)) - x) / mpmath.mpf(x) ** 3) for x in xs])
    Q = lawson(xs, g, [lambda x, k=k: (x * x) ** k for k in range(5)], np.array([x ** 3 / np.tanh(x) for x in xs]))

    xs = nodes(0, 1)
    g = np.array([float(mpmath.erf(mpmath.mpf(x)) / x) for x in xs])
    A = lawson(xs, g, [lambda x, k=k: (x * x) ** k for k in range(7)], 1 / g)

    def erfcx(y):
        y = mpmath.mpf(y)
        return mpmath.erfc(y) * mpmath.exp(y * y)

    ys = nodes(0.5, 2)
    g = np.array([float(erfcx(y)) for y in ys])
    B1 = lawson(ys, g, [lambda y, k=k: (y - 1.25) ** k for k in range(11)], 1 / g)
    ts = nodes(1 / 10.2, 0.5)
    g = np.array([float(erfcx(1 / t) / t) for t in ts])
    B2 = lawson(ts, g, [lambda t, k=k: t ** k for k in range(11)], 1 / g)
    return P, Q, A, B1, B2


LN2_HI = f32(0.693145751953125)  # 15 significant bits: k·LN2_HI is exact for |k| < 2^8
LN2_LO = f32(float(mpmath.log(2)) - 0.693145751953125)


def exp32(x, P, lo=f32(0)):
    """e^(x + lo) as the kernel computes it (x in the normal range; no clamping or scaling here)."""
    k = f32(np.round(f32(x * f32(1.4426950408889634))))
    r = f32(f32(f32(x - f32(k * LN2_HI)) - f32(k * LN2_LO)) + lo)
    p = f32(1 + f32(r + f32(f32(r * r) * horner(P, r))))
    return float(p) * 2.0 ** float(k)


def ulps(got, exact):
    """|got − exact| in ulps of float32 at exact's binade."""
    e = abs(float(exact))
    return abs(float(got) - float(exact)) / 2.0 ** (np.floor(np.log2(e)) - 23) if e else 0.0


def check(P, Q, A, B1, B2):
    worst = {}
    for x in np.linspace(-87, 88, 20001).astype(f32):
        worst["exp"] = max(worst.get("exp", 0), ulps(f32(exp32(x, P)), mpmath.exp(mpmath.mpf(float(x)))))
    for x in np.linspace(1e-4, 0.625, 20001).astype(f32):
        t = f32(x + f32(x * f32(f32(x * x) * horner(Q, f32(x * x)))))
        worst["tanh (polynomial)"] = max(worst.get("tanh (polynomial)", 0), ulps(t, mpmath.tanh(mpmath.mpf(float(x)))))
    for y in np.linspace(1e-4, 0.9999, 20001).astype(f32):
        worst["erf (y < 1)"] = max(worst.get("erf (y < 1)", 0), ulps(f32(y * horner(A, f32(y * y))), mpmath.erf(mpmath.mpf(float(y)))))
    for y in np.linspace(0.5, 10, 20001).astype(f32):
        b = horner(B1, f32(y - f32(1.25))) if y < 2 else f32(f32(1 / y) * horner(B2, f32(1 / y)))
        # e^(−y²) from y² split exactly into hi + lo (as the kernel does), so only the exp and B round
        yh = f32(f32(y * f32(4097)) - f32(f32(y * f32(4097)) - y))
        yl = f32(y - yh)
        hi = f32(yh * yh)
        lo = f32(f32(f32(yh * yl) * f32(2)) + f32(yl * yl))
        e = exp32(f32(-hi), P, f32(-lo))
        got = f32(np.float64(e) * np.float64(b)) if e * float(b) > 1.2e-38 else None
        if got is not None:
            worst["erfc (y ≥ 0.5)"] = max(worst.get("erfc (y ≥ 0.5)", 0), ulps(got, mpmath.erfc(mpmath.mpf(float(y)))))
    return worst


def const(v):
    v = float(v)
    return f"(v128.const f32x4 {v!r} {v!r} {v!r} {v!r})"


def wat_horner(name, c, what):
    """A function evaluating Σ c_k u^k by Horner's rule on four float32 lanes."""
    lines = [f"  ;; {what}", f"  (func ${name} (param $u v128) (result v128)", "    (local $p v128)", f"    (local.set $p {const(c[-1])})"]
    for k in range(len(c) - 2, 0, -1):
        lines.append(f"    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) {const(c[k])}))")
    lines.append(f"    (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) {const(c[0])}))")
    return "\n".join(lines)


def wat_horner_select(name, c1, c2, what):
    """Horner's rule with each lane's coefficients from c1 where `first` is set, else from c2 (one series' work)."""
    sel = lambda k: f"(v128.bitselect {const(c1[k])} {const(c2[k])} (local.get $first))"
    lines = [f"  ;; {what}", f"  (func ${name} (param $u v128) (param $first v128) (result v128)", "    (local $p v128)", f"    (local.set $p {sel(len(c1) - 1)})"]
    for k in range(len(c1) - 2, 0, -1):
        lines.append(f"    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) {sel(k)}))")
    lines.append(f"    (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) {sel(0)}))")
    return "\n".join(lines)


if __name__ == "__main__":
    P, Q, A, B1, B2 = fit_all()
    for k, v in check(P, Q, A, B1, B2).items():
        print(f";; worst {k}: {v:.2f} ulp")
    print(wat_horner("polyP", P, "P(r), e^r = 1 + (r + r²·P(r)) on [−ln2/2, ln2/2]"))
    print(wat_horner("polyQ", Q, "Q(s), tanh(x) = x + x·(s·Q(s)) with s = x², |x| < 0.625"))
    print(wat_horner("polyA", A, "A(s), erf(y) = y·A(y²) on [0, 1)"))
    print(wat_horner_select("polyB", B1, B2, "erfcx(y) = e^(y²)·erfc(y): B1(y − 1.25) on [0.5, 2) (lanes in `first`), else t·B2(t), t = 1/y, on [2, 10.2]"))
