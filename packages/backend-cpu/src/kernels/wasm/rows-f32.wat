;; Transcendental float32 kernels, WebAssembly SIMD: exp, tanh, gelu (tanh form) and its derivative, sigmoid, erf,
;; and the exact gelu and its derivative elementwise, and softmax / log-softmax rows forward and backward. Pointers are byte offsets into the CPU backend's shared heap.
;;
;; Everything is computed in float64 (f64x2, two lanes at a time) and rounded to float32 once, as the TypeScript
;; kernels do with Math.exp / Math.tanh: exp is Cody-Waite range reduction (x = k·ln2 + r, |r| ≤ ln2/2) and the
;; degree-11 Taylor polynomial of e^r (truncation < 7e-15 relative), scaled by 2^k built in the exponent bits.
;; Results are the float32 rounding of a value within ~1e-14 of the exact one, so they differ from the TypeScript
;; kernels only where that value lies within 1e-14 of a float32 rounding boundary. Row sums run in two f64x2
;; accumulators (another order than the TypeScript loop: equal to ~1e-16 relative).
(module
  (import "env" "memory" (memory 1 65536 shared))
  (import "env" "log" (func $log (param f64) (result f64)))

  ;; e^x for both lanes. Inputs are clamped to [-120, 100] (2^k stays a normal float64; float32 results are +inf
  ;; above e^88.8 either way), and results below e^-104, which round to float32 0, are exactly 0. NaN stays NaN.
  (func $exp (param $x v128) (result v128)
    (local $t v128) (local $k v128) (local $r v128) (local $p v128) (local $r2 v128) (local $r4 v128)
    ;; pmax/pmin are single instructions and keep a NaN x (it is their first operand)
    (local.set $x (f64x2.pmin (f64x2.pmax (local.get $x) (v128.const f64x2 -120 -120)) (v128.const f64x2 100 100)))
    ;; k = round(x/ln2) by the 1.5·2^52 trick: t's low mantissa bits hold k, and t − 1.5·2^52 = k exactly
    (local.set $t (f64x2.add (f64x2.mul (local.get $x) (v128.const f64x2 1.4426950408889634 1.4426950408889634))
      (v128.const f64x2 6755399441055744 6755399441055744)))
    (local.set $k (f64x2.sub (local.get $t) (v128.const f64x2 6755399441055744 6755399441055744)))
    ;; ln2 split into a 32-bit-significand high part (k·hi is exact) and the rest
    (local.set $r (f64x2.sub
      (f64x2.sub (local.get $x) (f64x2.mul (local.get $k) (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01)))
      (f64x2.mul (local.get $k) (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10))))
    ;; Σ r^i/i!, i ≤ 11, by Estrin's scheme: pairs (c₂ᵢ + c₂ᵢ₊₁·r), then r², r⁴, r⁸ — four dependent multiply-adds
    ;; deep rather than Horner's eleven, whose latency bound exp (tanh, softmax: ~25% slower, measured).
    (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
    (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
    (local.set $p (f64x2.add
      (f64x2.add
        (f64x2.add (f64x2.add (v128.const f64x2 1 1) (local.get $r))
        (f64x2.mul (f64x2.add (v128.const f64x2 0.5 0.5) (f64x2.mul (v128.const f64x2 1.6666666666666666e-01 1.6666666666666666e-01) (local.get $r))) (local.get $r2)))
        (f64x2.mul (f64x2.add (f64x2.add (v128.const f64x2 4.1666666666666664e-02 4.1666666666666664e-02) (f64x2.mul (v128.const f64x2 8.333333333333333e-03 8.333333333333333e-03) (local.get $r)))
        (f64x2.mul (f64x2.add (v128.const f64x2 1.388888888888889e-03 1.388888888888889e-03) (f64x2.mul (v128.const f64x2 1.984126984126984e-04 1.984126984126984e-04) (local.get $r))) (local.get $r2)))
          (local.get $r4)))
      (f64x2.mul (f64x2.add (f64x2.add (v128.const f64x2 2.48015873015873e-05 2.48015873015873e-05) (f64x2.mul (v128.const f64x2 2.7557319223985893e-06 2.7557319223985893e-06) (local.get $r)))
        (f64x2.mul (f64x2.add (v128.const f64x2 2.755731922398589e-07 2.755731922398589e-07) (f64x2.mul (v128.const f64x2 2.505210838544172e-08 2.505210838544172e-08) (local.get $r))) (local.get $r2)))
        (f64x2.mul (local.get $r4) (local.get $r4)))))
    ;; 2^k: (k + 1023) in the exponent field. t's bits are bits(1.5·2^52) + k, whose low 12 bits are k's, so
    ;; (bits(t) + 1023) << 52 is the float64 2^k (k in [-174, 145] here). A NaN lane's p is NaN anyway.
    ;; Below −104 the float32 result is 0: return exactly 0 there, so e^−inf = 0 (a row of −inf sums to 0).
    (v128.andnot
      (f64x2.mul (local.get $p) (i64x2.shl (i64x2.add (local.get $t) (v128.const i64x2 1023 1023)) (i32.const 52)))
      (f64x2.lt (local.get $x) (v128.const f64x2 -104 -104))))

  ;; tanh(x) = ±(1 − 2/(e^{2|x|} + 1)); below 2^-13 in magnitude x·(1 − x²/3) (exact to float64 there, keeps −0).
  (func $tanh (param $x v128) (result v128)
    (local $a v128) (local $e v128) (local $big v128)
    (local.set $a (f64x2.abs (local.get $x)))
    (local.set $e (call $exp (f64x2.add (local.get $a) (local.get $a))))
    (local.set $big (f64x2.sub (v128.const f64x2 1 1)
      (f64x2.div (v128.const f64x2 2 2) (f64x2.add (local.get $e) (v128.const f64x2 1 1)))))
    (local.set $big (v128.bitselect (local.get $x) (local.get $big) (v128.const i64x2 0x8000000000000000 0x8000000000000000)))
    (v128.bitselect
      (f64x2.mul (local.get $x)
        (f64x2.sub (v128.const f64x2 1 1) (f64x2.div (f64x2.mul (local.get $x) (local.get $x)) (v128.const f64x2 3 3))))
      (local.get $big)
      (f64x2.lt (local.get $a) (v128.const f64x2 1.220703125e-4 1.220703125e-4))))

  ;; op 0 exp, 1 tanh, 2 gelu (tanh form: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))), 3 sigmoid
  ;; d/dx geluTanh = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²), t = tanh(√(2/π)(x + 0.044715x³)), in the
  ;; TypeScript kernel's order; exactly 1 above x = 15 and 0 below −15 (so ±inf give no inf·0).
  (func $geluTanhGrad (param $x v128) (result v128)
    (local $t v128)
    (local.set $t (call $tanh (f64x2.mul (v128.const f64x2 0.7978845608028654 0.7978845608028654)
      (f64x2.add (local.get $x)
        (f64x2.mul (f64x2.mul (f64x2.mul (v128.const f64x2 0.044715 0.044715) (local.get $x)) (local.get $x)) (local.get $x))))))
    (v128.bitselect (v128.const f64x2 1 1)
      (v128.bitselect (v128.const f64x2 0 0)
        (f64x2.add
          (f64x2.mul (v128.const f64x2 0.5 0.5) (f64x2.add (v128.const f64x2 1 1) (local.get $t)))
          (f64x2.mul
            (f64x2.mul
              (f64x2.mul (f64x2.mul (v128.const f64x2 0.5 0.5) (local.get $x))
                (f64x2.sub (v128.const f64x2 1 1) (f64x2.mul (local.get $t) (local.get $t))))
              (v128.const f64x2 0.7978845608028654 0.7978845608028654))
            (f64x2.add (v128.const f64x2 1 1)
              (f64x2.mul (f64x2.mul (v128.const f64x2 0.134145 0.134145) (local.get $x)) (local.get $x)))))
        (f64x2.lt (local.get $x) (v128.const f64x2 -15 -15)))
      (f64x2.gt (local.get $x) (v128.const f64x2 15 15))))

;; erf, erfc and the exact gelu (Φ(x) = ½·erfc(−x/√2)). erfc(y), y ≥ 0, from three Chebyshev series fitted in float64
;; by scripts/fit-erfc.py against mpmath (which prints them below): within 5e-12 relative on [0, 11), 0 from 11 on
;; (erfc(11) = 1.4e-54). erf(y) = y·A(2y² − 1) below 1 (relative accuracy near 0), else 1 − erfc(y). Below 0 the
;; gelu takes erfc directly rather than 1 + erf, which cancels (at x = −8 it kept one digit).
  (func $chebErfA (param $u v128) (result v128)
    (local $u2 v128) (local $b1 v128) (local $b2 v128) (local $t v128)
    (local.set $u2 (f64x2.add (local.get $u) (local.get $u)))
    (local.set $b1 (v128.const f64x2 3.2334216723110245e-11 3.2334216723110245e-11))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -1.1808582762190755e-09 -1.1808582762190755e-09)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 3.848875544371944e-08 3.848875544371944e-08)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -1.1043175507097766e-06 -1.1043175507097766e-06)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 2.74199312521917e-05 2.74199312521917e-05)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -0.0005768764699767639 -0.0005768764699767639)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 0.010035582187599802 0.010035582187599802)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -0.14226120510371365 -0.14226120510371365)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (f64x2.add (f64x2.sub (f64x2.mul (local.get $u) (local.get $b1)) (local.get $b2)) (v128.const f64x2 0.9754769393826541 0.9754769393826541)))
  (func $chebErfcxB (param $u v128) (result v128)
    (local $u2 v128) (local $b1 v128) (local $b2 v128) (local $t v128)
    (local.set $u2 (f64x2.add (local.get $u) (local.get $u)))
    (local.set $b1 (v128.const f64x2 3.663821683100077e-12 3.663821683100077e-12))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -2.8336570871589768e-11 -2.8336570871589768e-11)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 2.141397034487936e-10 2.141397034487936e-10)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -1.5791182654638984e-09 -1.5791182654638984e-09)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 1.1346142397746405e-08 1.1346142397746405e-08)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -7.92969488826102e-08 -7.92969488826102e-08)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 5.380083092088248e-07 5.380083092088248e-07)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -3.535572865189847e-06 -3.535572865189847e-06)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 2.2444582753744214e-05 2.2444582753744214e-05)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -0.00013720361484014345 -0.00013720361484014345)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 0.0008045451692536677 0.0008045451692536677)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -0.004503974067265902 -0.004503974067265902)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 0.023925887746485464 0.023925887746485464)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -0.11964641832736304 -0.11964641832736304)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (f64x2.add (f64x2.sub (f64x2.mul (local.get $u) (local.get $b1)) (local.get $b2)) (v128.const f64x2 0.2785389365977923 0.2785389365977923)))
  (func $chebErfcxC (param $u v128) (result v128)
    (local $u2 v128) (local $b1 v128) (local $b2 v128) (local $t v128)
    (local.set $u2 (f64x2.add (local.get $u) (local.get $u)))
    (local.set $b1 (v128.const f64x2 2.089978061821388e-12 2.089978061821388e-12))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -2.0475450260838895e-11 -2.0475450260838895e-11)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -2.7102834121460733e-12 -2.7102834121460733e-12)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 2.481011081435864e-09 2.481011081435864e-09)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -2.7989353497947763e-08 -2.7989353497947763e-08)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -5.6116132472125326e-08 -5.6116132472125326e-08)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 5.93843470408633e-06 5.93843470408633e-06)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -6.543934708363695e-05 -6.543934708363695e-05)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 -0.001053587183099746 -0.001053587183099746)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (local.set $t (f64x2.add (f64x2.sub (f64x2.mul (local.get $u2) (local.get $b1)) (local.get $b2)) (v128.const f64x2 0.0640257712143484 0.0640257712143484)))
    (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $t))
    (f64x2.add (f64x2.sub (f64x2.mul (local.get $u) (local.get $b1)) (local.get $b2)) (v128.const f64x2 0.11608854970812912 0.11608854970812912)))


  ;; erfc(y) (first result) and erf(y) (second) for y ≥ 0 given e = e^(−y²) (needed only where some lane has y ≥ 1).
  ;; A series no lane needs is skipped: activations are mostly below 1 (|x| < √2 for the gelu), so mostly only A runs.
  ;; NaN stays NaN.
  (func $erfcErf (param $y v128) (param $e v128) (result v128 v128)
    (local $small v128) (local $a v128) (local $c v128)
    (local.set $small (f64x2.lt (local.get $y) (v128.const f64x2 1 1)))
    (if (v128.any_true (local.get $small))
      (then (local.set $a (f64x2.mul (local.get $y)
        (call $chebErfA (f64x2.sub (f64x2.mul (v128.const f64x2 2 2) (f64x2.mul (local.get $y) (local.get $y))) (v128.const f64x2 1 1)))))))
    (if (v128.any_true (v128.andnot (f64x2.lt (local.get $y) (v128.const f64x2 3 3)) (local.get $small)))
      (then (local.set $c (f64x2.mul (local.get $e) (call $chebErfcxB (f64x2.sub (local.get $y) (v128.const f64x2 2 2)))))))
    (if (v128.any_true (v128.and (f64x2.ge (local.get $y) (v128.const f64x2 3 3)) (f64x2.lt (local.get $y) (v128.const f64x2 11 11))))
      (then (local.set $c (v128.bitselect
        (f64x2.mul (local.get $e)
          (call $chebErfcxC (f64x2.mul
            (f64x2.sub (f64x2.div (v128.const f64x2 1 1) (local.get $y)) (v128.const f64x2 0.21212121212121213 0.21212121212121213))
            (v128.const f64x2 8.25 8.25))))
        (local.get $c)
        (f64x2.ge (local.get $y) (v128.const f64x2 3 3))))))
    ;; 0 from 11 on; the NaN lane takes y itself
    (local.set $c (v128.bitselect (local.get $y)
      (v128.andnot (local.get $c) (f64x2.ge (local.get $y) (v128.const f64x2 11 11)))
      (f64x2.ne (local.get $y) (local.get $y))))
    (local.set $c (v128.bitselect (f64x2.sub (v128.const f64x2 1 1) (local.get $a)) (local.get $c) (local.get $small)))
    (local.get $c)
    (v128.bitselect (local.get $a) (f64x2.sub (v128.const f64x2 1 1) (local.get $c)) (local.get $small)))

  ;; Φ(x), the standard normal distribution, given y = |x|/√2 and e = e^(−y²): ½(1 + erf(y)) at x ≥ 0, ½·erfc(y) below.
  (func $phi (param $x v128) (param $y v128) (param $e v128) (result v128)
    (local $c v128) (local $erf v128)
    (call $erfcErf (local.get $y) (local.get $e))
    (local.set $erf)
    (local.set $c)
    (f64x2.mul (v128.const f64x2 0.5 0.5)
      (v128.bitselect
        (f64x2.add (v128.const f64x2 1 1) (local.get $erf))
        (local.get $c)
        (f64x2.ge (local.get $x) (v128.const f64x2 0 0)))))

  ;; e^(−y²) where some lane has y ≥ 1 (erfc's series need it there), else unused: 0.
  (func $tailExp (param $y v128) (result v128)
    (if (result v128) (v128.any_true (f64x2.ge (local.get $y) (v128.const f64x2 1 1)))
      (then (call $exp (f64x2.neg (f64x2.mul (local.get $y) (local.get $y)))))
      (else (v128.const f64x2 0 0))))

  ;; op 5 erf, 6 gelu x·Φ(x), 7 its derivative Φ(x) + x·φ(x) (exactly 1 above 40 and 0 below −40, as the TypeScript
  ;; kernel, so ±inf give no inf·0).
  (func $erfOps (param $op i32) (param $x v128) (result v128)
    (local $y v128) (local $e v128) (local $r v128)
    (if (i32.eq (local.get $op) (i32.const 5))
      (then
        (local.set $y (f64x2.abs (local.get $x)))
        (call $erfcErf (local.get $y) (call $tailExp (local.get $y)))
        (local.set $r)
        (drop)
        (return (v128.bitselect (local.get $x) (local.get $r) (v128.const i64x2 0x8000000000000000 0x8000000000000000)))))
    (local.set $y (f64x2.mul (f64x2.abs (local.get $x)) (v128.const f64x2 0.7071067811865476 0.7071067811865476)))
    (if (i32.eq (local.get $op) (i32.const 6))
      (then (return (f64x2.mul (local.get $x) (call $phi (local.get $x) (local.get $y) (call $tailExp (local.get $y)))))))
    (local.set $e (call $exp (f64x2.neg (f64x2.mul (local.get $y) (local.get $y)))))
    (v128.bitselect (v128.const f64x2 1 1)
      (v128.bitselect (v128.const f64x2 0 0)
        ;; negative below x ≈ −0.75: where both terms underflow, the exact value still rounds to −0
        (v128.or
          (f64x2.add (call $phi (local.get $x) (local.get $y) (local.get $e))
            (f64x2.mul (f64x2.mul (local.get $x) (local.get $e)) (v128.const f64x2 0.3989422804014327 0.3989422804014327)))
          (v128.and (v128.const i64x2 0x8000000000000000 0x8000000000000000) (f64x2.lt (local.get $x) (v128.const f64x2 -1 -1))))
        (f64x2.lt (local.get $x) (v128.const f64x2 -40 -40)))
      (f64x2.gt (local.get $x) (v128.const f64x2 40 40))))

  (func $apply (param $op i32) (param $x v128) (result v128)
    (local $e v128)
    (if (i32.eqz (local.get $op)) (then (return (call $exp (local.get $x)))))
    (if (i32.eq (local.get $op) (i32.const 1)) (then (return (call $tanh (local.get $x)))))
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (return
          (f64x2.mul (f64x2.mul (v128.const f64x2 0.5 0.5) (local.get $x))
            (f64x2.add (v128.const f64x2 1 1)
              (call $tanh (f64x2.mul (v128.const f64x2 0.7978845608028654 0.7978845608028654)
                (f64x2.add (local.get $x)
                  (f64x2.mul (f64x2.mul (f64x2.mul (v128.const f64x2 0.044715 0.044715) (local.get $x)) (local.get $x))
                    (local.get $x))))))))))
    (if (i32.eq (local.get $op) (i32.const 4)) (then (return (call $geluTanhGrad (local.get $x)))))
    (if (i32.ge_u (local.get $op) (i32.const 5)) (then (return (call $erfOps (local.get $op) (local.get $x)))))
    ;; sigmoid: 1/(1 + e^−x) for x ≥ 0, e^x/(1 + e^x) below (e^−|x| never overflows)
    (local.set $e (call $exp (f64x2.neg (f64x2.abs (local.get $x)))))
    (v128.bitselect
      (f64x2.div (v128.const f64x2 1 1) (f64x2.add (v128.const f64x2 1 1) (local.get $e)))
      (f64x2.div (local.get $e) (f64x2.add (v128.const f64x2 1 1) (local.get $e)))
      (f64x2.ge (local.get $x) (v128.const f64x2 0 0))))

  ;; out[i] = f(x[i]), i < n, contiguous float32
  (func (export "unary") (param $op i32) (param $x i32) (param $out i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $v v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $out) (local.get $vend)))
        (local.set $v (v128.load (local.get $x)))
        (v128.store (local.get $out)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (call $apply (local.get $op) (f64x2.promote_low_f32x4 (local.get $v))))
            (f32x4.demote_f64x2_zero (call $apply (local.get $op)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $vloop)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (f32.demote_f64 (f64x2.extract_lane 0
          (call $apply (local.get $op) (f64x2.splat (f64.promote_f32 (f32.load (local.get $x))))))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $tail))))

  ;; Softmax (log = 0) or log-softmax (log = 1) of each of `rows` contiguous rows of `cols` float32.
  (func (export "softmax") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32) (param $log i32)
    (local $r i32) (local $j i32) (local $vcols i32) (local $row i32) (local $o i32)
    (local $vmax v128) (local $max f32) (local $mx v128) (local $s0 v128) (local $s1 v128) (local $v v128)
    (local $sum f64) (local $c v128) (local $e0 v128) (local $e1 v128) (local $src i32)
    (local.set $vcols (i32.and (local.get $cols) (i32.const -4)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $o (i32.add (local.get $out) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        ;; the row's max (NaN if any element is NaN; a row of −inf uses 0)
        (local.set $vmax (v128.const f32x4 -inf -inf -inf -inf))
        (local.set $j (i32.const 0))
        (block $mdone
          (loop $mloop
            (br_if $mdone (i32.ge_u (local.get $j) (local.get $vcols)))
            (local.set $vmax (f32x4.max (local.get $vmax) (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $mloop)))
        (local.set $max (f32.max (f32.max (f32x4.extract_lane 0 (local.get $vmax)) (f32x4.extract_lane 1 (local.get $vmax)))
          (f32.max (f32x4.extract_lane 2 (local.get $vmax)) (f32x4.extract_lane 3 (local.get $vmax)))))
        (block $tdone
          (loop $tloop
            (br_if $tdone (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $max (f32.max (local.get $max) (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tloop)))
        (if (f32.eq (local.get $max) (f32.const -inf)) (then (local.set $max (f32.const 0))))
        (local.set $mx (f64x2.splat (f64.promote_f32 (local.get $max))))
        ;; Σ e^(x − max) in float64; each e^(x − max) is kept in the output, rounded to float32, for the last pass
        ;; (one exp per element, as PyTorch: the output is then rounded twice, within an ulp of once)
        (local.set $s0 (v128.const f64x2 0 0))
        (local.set $s1 (v128.const f64x2 0 0))
        (local.set $j (i32.const 0))
        (block $sdone
          (loop $sloop
            (br_if $sdone (i32.ge_u (local.get $j) (local.get $vcols)))
            (local.set $v (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $e0 (call $exp (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mx))))
            (local.set $e1 (call $exp (f64x2.sub
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
              (local.get $mx))))
            (local.set $s0 (f64x2.add (local.get $s0) (local.get $e0)))
            (local.set $s1 (f64x2.add (local.get $s1) (local.get $e1)))
            (v128.store (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (f32x4.demote_f64x2_zero (local.get $e0)) (f32x4.demote_f64x2_zero (local.get $e1))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $sloop)))
        (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
        (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
        (block $udone
          (loop $uloop
            (br_if $udone (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $e0 (call $exp (f64x2.sub
              (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
              (local.get $mx))))
            (local.set $sum (f64.add (local.get $sum) (f64x2.extract_lane 0 (local.get $e0))))
            (f32.store (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $e0))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $uloop)))
        ;; log: x − (max + log Σ); else the kept e^(x − max) · (1/Σ)
        (if (local.get $log)
          (then
            (local.set $c (f64x2.splat (f64.add (f64.promote_f32 (local.get $max)) (call $log (local.get $sum)))))
            (local.set $src (local.get $row)))
          (else
            (local.set $c (f64x2.splat (f64.div (f64.const 1) (local.get $sum))))
            (local.set $src (local.get $o))))
        (local.set $j (i32.const 0))
        (block $wdone
          (loop $wloop
            (br_if $wdone (i32.ge_u (local.get $j) (local.get $cols)))
            (if (i32.lt_u (local.get $j) (local.get $vcols))
              (then
                (local.set $v (v128.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2)))))
                (v128.store (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                    (f32x4.demote_f64x2_zero (call $softmaxOut (f64x2.promote_low_f32x4 (local.get $v)) (local.get $c) (local.get $log)))
                    (f32x4.demote_f64x2_zero (call $softmaxOut
                      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
                      (local.get $c) (local.get $log)))))
                (local.set $j (i32.add (local.get $j) (i32.const 4))))
              (else
                (f32.store (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))
                  (f32.demote_f64 (f64x2.extract_lane 0 (call $softmaxOut
                    (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))))
                    (local.get $c) (local.get $log)))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))))
            (br $wloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))

  ;; log: x − c; else e·c (e the kept e^(x − max))
  (func $softmaxOut (param $v v128) (param $c v128) (param $log i32) (result v128)
    (if (result v128) (local.get $log)
      (then (f64x2.sub (local.get $v) (local.get $c)))
      (else (f64x2.mul (local.get $v) (local.get $c)))))

  ;; Backward of `softmax`: log: dx = dy − e^y·Σdy; else dx = y·(dy − Σ dy·y). Float64 throughout.
  (func (export "softmaxBackward") (param $y i32) (param $dy i32) (param $dx i32) (param $rows i32) (param $cols i32) (param $log i32)
    (local $r i32) (local $j i32) (local $vcols i32) (local $base i32) (local $at i32)
    (local $s0 v128) (local $s1 v128) (local $a v128) (local $b v128) (local $s v128) (local $sum f64)
    (local.set $vcols (i32.and (local.get $cols) (i32.const -4)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $base (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2)))
        (local.set $s0 (v128.const f64x2 0 0))
        (local.set $s1 (v128.const f64x2 0 0))
        (local.set $j (i32.const 0))
        (block $sdone
          (loop $sloop
            (br_if $sdone (i32.ge_u (local.get $j) (local.get $vcols)))
            (local.set $at (i32.add (local.get $base) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $a (v128.load (i32.add (local.get $dy) (local.get $at))))
            (local.set $b (v128.load (i32.add (local.get $y) (local.get $at))))
            (if (local.get $log)
              (then
                (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $a))))
                (local.set $s1 (f64x2.add (local.get $s1)
                  (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a))))))
              (else
                (local.set $s0 (f64x2.add (local.get $s0)
                  (f64x2.mul (f64x2.promote_low_f32x4 (local.get $a)) (f64x2.promote_low_f32x4 (local.get $b)))))
                (local.set $s1 (f64x2.add (local.get $s1)
                  (f64x2.mul
                    (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a)))
                    (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b))))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $sloop)))
        (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
        (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
        (block $udone
          (loop $uloop
            (br_if $udone (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $at (i32.add (local.get $base) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $sum (f64.add (local.get $sum)
              (if (result f64) (local.get $log)
                (then (f64.promote_f32 (f32.load (i32.add (local.get $dy) (local.get $at)))))
                (else (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $dy) (local.get $at))))
                  (f64.promote_f32 (f32.load (i32.add (local.get $y) (local.get $at)))))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $uloop)))
        (local.set $s (f64x2.splat (local.get $sum)))
        (local.set $j (i32.const 0))
        (block $wdone
          (loop $wloop
            (br_if $wdone (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $at (i32.add (local.get $base) (i32.shl (local.get $j) (i32.const 2))))
            (if (i32.lt_u (local.get $j) (local.get $vcols))
              (then
                (local.set $a (v128.load (i32.add (local.get $dy) (local.get $at))))
                (local.set $b (v128.load (i32.add (local.get $y) (local.get $at))))
                (v128.store (i32.add (local.get $dx) (local.get $at))
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                    (f32x4.demote_f64x2_zero (call $softmaxGrad (f64x2.promote_low_f32x4 (local.get $b))
                      (f64x2.promote_low_f32x4 (local.get $a)) (local.get $s) (local.get $log)))
                    (f32x4.demote_f64x2_zero (call $softmaxGrad
                      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b)))
                      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a)))
                      (local.get $s) (local.get $log)))))
                (local.set $j (i32.add (local.get $j) (i32.const 4))))
              (else
                (f32.store (i32.add (local.get $dx) (local.get $at))
                  (f32.demote_f64 (f64x2.extract_lane 0 (call $softmaxGrad
                    (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $y) (local.get $at)))))
                    (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $dy) (local.get $at)))))
                    (local.get $s) (local.get $log)))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))))
            (br $wloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))

  (func $softmaxGrad (param $y v128) (param $dy v128) (param $s v128) (param $log i32) (result v128)
    (if (result v128) (local.get $log)
      (then (f64x2.sub (local.get $dy) (f64x2.mul (call $exp (local.get $y)) (local.get $s))))
      (else (f64x2.mul (local.get $y) (f64x2.sub (local.get $dy) (local.get $s)))))))
