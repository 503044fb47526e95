;; Transcendental float32 kernels, WebAssembly SIMD: exp, tanh, gelu (tanh form) and its derivative, sigmoid, erf,
;; the exact gelu and its derivative elementwise, and softmax / log-softmax rows forward and backward. Pointers are
;; byte offsets into the CPU backend's shared heap.
;;
;; Arithmetic is float32 (f32x4, four lanes): each function is a float32 polynomial or rational in float32
;; operations, a few float32 roundings from the exact value (the bounds are derived and tested beside the tests:
;; test/unary.test.ts, test/softmax.test.ts). Where float32 alone would lose digits the code says how it keeps them:
;; - exp: Cody-Waite reduction x = k·ln2 + r (k·ln2's high part exact), e^r by a degree-6 polynomial fitted by
;;   scripts/fit-f32.py (within 0.92 ulp), scaled by 2^k as two factors 2^(k/2) so that results which underflow to
;;   subnormals, or overflow, round once;
;; - tanh: an odd polynomial below 0.625 (1 − 2/(e^(2x) + 1) cancels there), (1 − e)/(1 + e) with e = e^(−2|x|) above;
;; - the tanh gelu as x·σ(2z), its derivative as σ + x·z'·2σ(1 − σ) with σ(1 − σ) = e/(1 + e)²: the same values as
;;   0.5·x·(1 + tanh z), without 1 + tanh z, which cancels for negative x;
;; - erf and erfc from a polynomial below 1 (erf) and e^(−y²) times erfcx fitted in two pieces from 0.5 (erfc), each
;;   taken where the other form would cancel; e^(−y²) from y² split exactly into two float32s, since y² rounded
;;   would cost y²·U relative (72U at y = 8.5);
;; - softmax sums e^(x − max) in float32 blocks of at most 12 terms per lane, each block added into float64.
;; Constants are float32 where they multiply; scripts/build-wasm.mjs turns every v128.const into a global (V8 builds
;; a vector constant from immediates each time) and inlines every call (V8 does not, and saves every live vector
;; register around one).
(module
  (import "env" "memory" (memory 1 65536 shared))
  (import "env" "log" (func $log (param f64) (result f64)))

  ;; the polynomials, as scripts/fit-f32.py prints them
  ;; P(r), e^r = 1 + (r + r²·P(r)) on [−ln2/2, ln2/2]
  (func $polyP (param $u v128) (result v128)
    (local $p v128)
    (local.set $p (v128.const f32x4 0.001381461275741458 0.001381461275741458 0.001381461275741458 0.001381461275741458))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 0.008368710055947304 0.008368710055947304 0.008368710055947304 0.008368710055947304)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 0.04166838899254799 0.04166838899254799 0.04166838899254799 0.04166838899254799)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 0.1666652113199234 0.1666652113199234 0.1666652113199234 0.1666652113199234)))
    (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 0.4999999403953552 0.4999999403953552 0.4999999403953552 0.4999999403953552)))
  ;; Q(s), tanh(x) = x + x·(s·Q(s)) with s = x², |x| < 0.625
  (func $polyQ (param $u v128) (result v128)
    (local $p v128)
    (local.set $p (v128.const f32x4 -0.005704987328499556 -0.005704987328499556 -0.005704987328499556 -0.005704987328499556))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 0.0206390880048275 0.0206390880048275 0.0206390880048275 0.0206390880048275)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 -0.05373971536755562 -0.05373971536755562 -0.05373971536755562 -0.05373971536755562)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 0.13331441581249237 0.13331441581249237 0.13331441581249237 0.13331441581249237)))
    (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 -0.3333328068256378 -0.3333328068256378 -0.3333328068256378 -0.3333328068256378)))
  ;; A(s), erf(y) = y·A(y²) on [0, 1)
  (func $polyA (param $u v128) (result v128)
    (local $p v128)
    (local.set $p (v128.const f32x4 7.853892020648345e-05 7.853892020648345e-05 7.853892020648345e-05 7.853892020648345e-05))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 -0.0008010203600861132 -0.0008010203600861132 -0.0008010203600861132 -0.0008010203600861132)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 0.005188329145312309 0.005188329145312309 0.005188329145312309 0.005188329145312309)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 -0.026853812858462334 -0.026853812858462334 -0.026853812858462334 -0.026853812858462334)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 0.1128358542919159 0.1128358542919159 0.1128358542919159 0.1128358542919159)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 -0.3761262595653534 -0.3761262595653534 -0.3761262595653534 -0.3761262595653534)))
    (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.const f32x4 1.1283791065216064 1.1283791065216064 1.1283791065216064 1.1283791065216064)))
  ;; erfcx(y) = e^(y²)·erfc(y): B1(y − 1.25) on [0.5, 2) (lanes in `first`), else t·B2(t), t = 1/y, on [2, 10.2]
  (func $polyB (param $u v128) (param $first v128) (result v128)
    (local $p v128)
    (local.set $p (v128.bitselect (v128.const f32x4 6.163400394143537e-05 6.163400394143537e-05 6.163400394143537e-05 6.163400394143537e-05) (v128.const f32x4 -0.9512978792190552 -0.9512978792190552 -0.9512978792190552 -0.9512978792190552) (local.get $first)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.bitselect (v128.const f32x4 -0.0001922532101161778 -0.0001922532101161778 -0.0001922532101161778 -0.0001922532101161778) (v128.const f32x4 3.729067087173462 3.729067087173462 3.729067087173462 3.729067087173462) (local.get $first))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.bitselect (v128.const f32x4 0.0004708477354142815 0.0004708477354142815 0.0004708477354142815 0.0004708477354142815) (v128.const f32x4 -6.410420894622803 -6.410420894622803 -6.410420894622803 -6.410420894622803) (local.get $first))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.bitselect (v128.const f32x4 -0.0013089454732835293 -0.0013089454732835293 -0.0013089454732835293 -0.0013089454732835293) (v128.const f32x4 6.118889808654785 6.118889808654785 6.118889808654785 6.118889808654785) (local.get $first))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.bitselect (v128.const f32x4 0.0035533758345991373 0.0035533758345991373 0.0035533758345991373 0.0035533758345991373) (v128.const f32x4 -3.1931560039520264 -3.1931560039520264 -3.1931560039520264 -3.1931560039520264) (local.get $first))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.bitselect (v128.const f32x4 -0.00908578559756279 -0.00908578559756279 -0.00908578559756279 -0.00908578559756279) (v128.const f32x4 0.49373164772987366 0.49373164772987366 0.49373164772987366 0.49373164772987366) (local.get $first))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.bitselect (v128.const f32x4 0.022011438384652138 0.022011438384652138 0.022011438384652138 0.022011438384652138) (v128.const f32x4 0.344841331243515 0.344841331243515 0.344841331243515 0.344841331243515) (local.get $first))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.bitselect (v128.const f32x4 -0.05021785944700241 -0.05021785944700241 -0.05021785944700241 -0.05021785944700241) (v128.const f32x4 0.0084461634978652 0.0084461634978652 0.0084461634978652 0.0084461634978652) (local.get $first))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.bitselect (v128.const f32x4 0.10679556429386139 0.10679556429386139 0.10679556429386139 0.10679556429386139) (v128.const f32x4 -0.2826872766017914 -0.2826872766017914 -0.2826872766017914 -0.2826872766017914) (local.get $first))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.bitselect (v128.const f32x4 -0.20882189273834229 -0.20882189273834229 -0.20882189273834229 -0.20882189273834229) (v128.const f32x4 2.434418274788186e-05 2.434418274788186e-05 2.434418274788186e-05 2.434418274788186e-05) (local.get $first))))
    (f32x4.add (f32x4.mul (local.get $p) (local.get $u)) (v128.bitselect (v128.const f32x4 0.36782291531562805 0.36782291531562805 0.36782291531562805 0.36782291531562805) (v128.const f32x4 0.5641891360282898 0.5641891360282898 0.5641891360282898 0.5641891360282898) (local.get $first))))

  ;; e^x, and e^(x + lo) for a small correction lo. Below −104 the float32 result is 0 (e^−104 < 2^−150): those lanes
  ;; compute e^0 instead and are zeroed after, since a product that underflows costs x86 a microcode assist of a
  ;; hundred cycles or more (a causal mask's −1e9 scores made softmax 4× slower). Above 89, +inf either way (x is
  ;; clamped there). NaN stays NaN (it is not below −104, and is pmin's first operand).
  (func $exp (param $x v128) (result v128)
    (call $expLo (local.get $x) (v128.const i64x2 0 0)))
  (func $expLo (param $x v128) (param $lo v128) (result v128)
    (local $dead v128)
    (local.set $dead (f32x4.lt (local.get $x) (v128.const f32x4 -104 -104 -104 -104)))
    (v128.andnot
      (call $expReduced
        (f32x4.pmin (v128.andnot (local.get $x) (local.get $dead)) (v128.const f32x4 89 89 89 89))
        (v128.andnot (local.get $lo) (local.get $dead)))
      (local.get $dead)))

  ;; e^(x + lo) for x in [−104, 89]
  (func $expReduced (param $x v128) (param $lo v128) (result v128)
    (local $t v128) (local $k v128) (local $r v128) (local $p v128) (local $ki v128) (local $k1 v128)
    ;; k = round(x/ln2) by the 1.5·2^23 trick: t's low mantissa bits hold k, and t − 1.5·2^23 = k exactly
    (local.set $t (f32x4.add (f32x4.mul (local.get $x) (v128.const f32x4 1.4426950408889634 1.4426950408889634 1.4426950408889634 1.4426950408889634))
      (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $k (f32x4.sub (local.get $t) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    ;; ln2 = hi + lo with hi of 15 significant bits: k·hi is exact for |k| ≤ 150, and so is x − k·hi (Sterbenz)
    (local.set $r (f32x4.sub
      (f32x4.sub (local.get $x) (f32x4.mul (local.get $k) (v128.const f32x4 0.693145751953125 0.693145751953125 0.693145751953125 0.693145751953125)))
      (f32x4.mul (local.get $k) (v128.const f32x4 1.4286068203094172e-06 1.4286068203094172e-06 1.4286068203094172e-06 1.4286068203094172e-06))))
    (local.set $r (f32x4.add (local.get $r) (local.get $lo)))
    (local.set $p (f32x4.add (v128.const f32x4 1 1 1 1)
      (f32x4.add (local.get $r) (f32x4.mul (f32x4.mul (local.get $r) (local.get $r)) (call $polyP (local.get $r))))))
    ;; 2^k = 2^k1·2^k2, k1 = k >> 1: both normal for k in [−150, 128], so p·2^k1 is exact and ·2^k2 rounds once.
    ;; t's bits less 1.5·2^23's are k; (k1 << 23) + bits(1.0) is 2^k1. (The constants are the ones above.)
    (local.set $ki (i32x4.sub (local.get $t) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $k1 (i32x4.shr_s (local.get $ki) (i32.const 1)))
    (f32x4.mul
      (f32x4.mul (local.get $p) (i32x4.add (i32x4.shl (local.get $k1) (i32.const 23)) (v128.const f32x4 1 1 1 1)))
      (i32x4.add (i32x4.shl (i32x4.sub (local.get $ki) (local.get $k1)) (i32.const 23)) (v128.const f32x4 1 1 1 1))))

  ;; v with the sign of s (v ≥ 0)
  (func $copysign (param $v v128) (param $s v128) (result v128)
    (v128.bitselect (local.get $s) (local.get $v) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000)))

  ;; tanh(x): ±(a + a·(a²·Q(a²))) below a = |x| = 0.625, else ±(1 − e)/(1 + e) with e = e^(−2a); the sign of x
  ;; put back last (so tanh(−0) = −0)
  (func $tanh (param $x v128) (result v128)
    (local $a v128) (local $s v128) (local $e v128)
    (local.set $a (f32x4.abs (local.get $x)))
    (local.set $s (f32x4.mul (local.get $a) (local.get $a)))
    (local.set $e (call $exp (f32x4.neg (f32x4.add (local.get $a) (local.get $a)))))
    (call $copysign
      (v128.bitselect
        (f32x4.add (local.get $a) (f32x4.mul (local.get $a) (f32x4.mul (local.get $s) (call $polyQ (local.get $s)))))
        (f32x4.div (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $e)) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e)))
        (f32x4.lt (local.get $a) (v128.const f32x4 0.625 0.625 0.625 0.625)))
      (local.get $x)))

  ;; σ(x) = 1/(1 + e) for x ≥ 0, e/(1 + e) below, e = e^(−|x|) (never overflows)
  (func $sigmoid (param $x v128) (result v128)
    (local $e v128)
    (local.set $e (call $exp (f32x4.neg (f32x4.abs (local.get $x)))))
    (f32x4.div
      (v128.bitselect (v128.const f32x4 1 1 1 1) (local.get $e) (f32x4.ge (local.get $x) (v128.const f32x4 0 0 0 0)))
      (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e))))

  ;; e = e^(−2|z|), z = √(2/π)·(x + 0.044715·x³) = x·(c + c₃·x²) with c₃ = 0.044715·c. Then σ(2z) = ½(1 + tanh z)
  ;; is 1/(1 + e) for x ≥ 0 and e/(1 + e) below: the gelu (tanh form) is x·σ(2z), without 1 + tanh z, which cancels.
  (func $geluTanhE (param $x v128) (result v128)
    (local $z v128)
    (local.set $z (f32x4.mul (local.get $x)
      (f32x4.add (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654)
        (f32x4.mul (v128.const f32x4 0.035677408136300125 0.035677408136300125 0.035677408136300125 0.035677408136300125)
          (f32x4.mul (local.get $x) (local.get $x))))))
    (call $exp (f32x4.neg (f32x4.abs (f32x4.add (local.get $z) (local.get $z))))))

  ;; 1 where x ≥ 0, else e: σ(2z)'s numerator
  (func $upper (param $x v128) (param $e v128) (result v128)
    (v128.bitselect (v128.const f32x4 1 1 1 1) (local.get $e) (call $nonNegative (local.get $x))))

  (func $geluTanh (param $x v128) (result v128)
    (local $e v128)
    (local.set $e (call $geluTanhE (local.get $x)))
    (f32x4.mul (local.get $x) (f32x4.div (call $upper (local.get $x) (local.get $e)) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e)))))

  ;; d/dx x·σ(2z) = σ + x·z'·2σ(1 − σ), with 2σ(1 − σ) = 2e/(1 + e)² and z' = c + 3c₃·x²; exactly 1 above x = 15 and 0
  ;; below −15, as the TypeScript kernel (so ±inf give no inf·0).
  (func $geluTanhGrad (param $x v128) (result v128)
    (local $e v128) (local $inv v128)
    (local.set $e (call $geluTanhE (local.get $x)))
    (local.set $inv (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e))))
    (v128.bitselect (v128.const f32x4 1 1 1 1)
      (v128.bitselect (v128.const f32x4 0 0 0 0)
        (f32x4.add
          (f32x4.mul (call $upper (local.get $x) (local.get $e)) (local.get $inv))
          (f32x4.mul
            (f32x4.mul (local.get $x)
              (f32x4.add (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654)
                (f32x4.mul (v128.const f32x4 0.10703222440890037 0.10703222440890037 0.10703222440890037 0.10703222440890037)
                  (f32x4.mul (local.get $x) (local.get $x)))))
            (f32x4.mul (f32x4.mul (f32x4.add (local.get $e) (local.get $e)) (local.get $inv)) (local.get $inv))))
        (f32x4.lt (local.get $x) (v128.const f32x4 -15 -15 -15 -15)))
      (f32x4.gt (local.get $x) (v128.const f32x4 15 15 15 15))))

  ;; e^(−h·x²) for x ≥ 0 (clamped to 20 by the callers), h = 1 or ½: x = xh + xl with xh of 12 significant bits
  ;; (Veltkamp's split), so h·xh² is exact and h·(2xh·xl + xl²) is the small rest, fed to the exp's reduction.
  (func $expNegSquare (param $x v128) (param $h v128) (result v128)
    (local $t v128) (local $xh v128) (local $xl v128)
    (local.set $t (f32x4.mul (local.get $x) (v128.const f32x4 4097 4097 4097 4097)))
    (local.set $xh (f32x4.sub (local.get $t) (f32x4.sub (local.get $t) (local.get $x))))
    (local.set $xl (f32x4.sub (local.get $x) (local.get $xh)))
    (call $expLo
      (f32x4.neg (f32x4.mul (local.get $h) (f32x4.mul (local.get $xh) (local.get $xh))))
      (f32x4.neg (f32x4.mul (local.get $h)
        (f32x4.add (f32x4.mul (f32x4.add (local.get $xh) (local.get $xh)) (local.get $xl)) (f32x4.mul (local.get $xl) (local.get $xl)))))))

  ;; erf(y) and erfc(y) for y ≥ 0, given e = e^(−y²): erf = y·A(y²) below 1, else 1 − erfc; erfc = e·erfcx(y) from
  ;; 0.5, else 1 − erf. Each is taken from the series that does not cancel there (1 − erfc towards erf = 1, 1 − erf
  ;; towards erfc = ½).
  (func $erfErfc (param $y v128) (param $e v128) (result v128 v128)
    (local $a v128) (local $t v128) (local $first v128) (local $c v128)
    (local.set $a (f32x4.mul (local.get $y) (call $polyA (f32x4.mul (local.get $y) (local.get $y)))))
    (local.set $t (f32x4.div (v128.const f32x4 1 1 1 1) (local.get $y)))
    (local.set $first (f32x4.lt (local.get $y) (v128.const f32x4 2 2 2 2)))
    (local.set $c (call $polyB
      (v128.bitselect (f32x4.sub (local.get $y) (v128.const f32x4 1.25 1.25 1.25 1.25)) (local.get $t) (local.get $first))
      (local.get $first)))
    (local.set $c (f32x4.mul (local.get $e) (v128.bitselect (local.get $c) (f32x4.mul (local.get $c) (local.get $t)) (local.get $first))))
    (v128.bitselect (local.get $a) (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $c)) (f32x4.lt (local.get $y) (v128.const f32x4 1 1 1 1)))
    (v128.bitselect (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $a)) (local.get $c) (f32x4.lt (local.get $y) (v128.const f32x4 0.5 0.5 0.5 0.5))))

  (func $erf (param $x v128) (result v128)
    (local $y v128) (local $erf v128) (local $erfc v128)
    (local.set $y (f32x4.pmin (f32x4.abs (local.get $x)) (v128.const f32x4 20 20 20 20)))
    (call $erfErfc (local.get $y) (call $expNegSquare (local.get $y) (v128.const f32x4 1 1 1 1)))
    (local.set $erfc)
    (local.set $erf)
    (call $copysign (local.get $erf) (local.get $x)))

  ;; erfc(y), y = |x|/√2, and e^(−x²/2), x clamped to ±20 (erfc(y) is 0 there); Φ(x) = ½·erfc(−x/√2) is
  ;; 1 − ½·erfc(y) at x ≥ 0 and ½·erfc(y) below.
  (func $normalTail (param $x v128) (result v128 v128)
    (local $a v128) (local $e v128) (local $erfc v128)
    (local.set $a (f32x4.pmin (f32x4.abs (local.get $x)) (v128.const f32x4 20 20 20 20)))
    (local.set $e (call $expNegSquare (local.get $a) (v128.const f32x4 0.5 0.5 0.5 0.5)))
    (call $erfErfc (f32x4.mul (local.get $a) (v128.const f32x4 0.7071067811865476 0.7071067811865476 0.7071067811865476 0.7071067811865476)) (local.get $e))
    (local.set $erfc)
    (drop)
    (local.get $erfc)
    (local.get $e))

  (func $nonNegative (param $x v128) (result v128)
    (f32x4.ge (local.get $x) (v128.const f32x4 0 0 0 0)))

  ;; x·Φ(x): x·(1 − ½·erfc) at x ≥ 0, (½x)·erfc below (halving x first, so a product that underflows rounds once)
  (func $gelu (param $x v128) (result v128)
    (local $c v128) (local $e v128)
    (call $normalTail (local.get $x))
    (local.set $e)
    (local.set $c)
    (v128.bitselect
      (f32x4.mul (local.get $x) (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $c))))
      (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $x)) (local.get $c))
      (call $nonNegative (local.get $x))))

  ;; d/dx x·Φ(x) = Φ(x) + x·φ(x), φ = e^(−x²/2)/√(2π); exactly 1 above 40 and 0 below −40 (as the TypeScript kernel,
  ;; so ±inf give no inf·0); −0 where the exact (negative) value underflows, below −1.
  (func $geluGrad (param $x v128) (result v128)
    (local $c v128) (local $e v128) (local $p v128)
    (call $normalTail (local.get $x))
    (local.set $e)
    (local.set $c)
    (local.set $c (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $c)))
    (local.set $p (v128.bitselect (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $c)) (local.get $c) (call $nonNegative (local.get $x))))
    (v128.bitselect (v128.const f32x4 1 1 1 1)
      (v128.bitselect (v128.const f32x4 0 0 0 0)
        (v128.or
          (f32x4.add (local.get $p)
            (f32x4.mul (f32x4.mul (local.get $x) (local.get $e)) (v128.const f32x4 0.3989422804014327 0.3989422804014327 0.3989422804014327 0.3989422804014327)))
          (v128.and (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000) (f32x4.lt (local.get $x) (v128.const f32x4 -1 -1 -1 -1))))
        (f32x4.lt (local.get $x) (v128.const f32x4 -40 -40 -40 -40)))
      (f32x4.gt (local.get $x) (v128.const f32x4 40 40 40 40))))

  ;; op 0 exp, 1 tanh, 2 gelu (tanh form), 3 sigmoid, 4 its derivative, 5 erf, 6 gelu, 7 its derivative
  (func $apply (param $op i32) (param $x v128) (result v128)
    (if (i32.eqz (local.get $op)) (then (return (call $exp (local.get $x)))))
    (if (i32.eq (local.get $op) (i32.const 1)) (then (return (call $tanh (local.get $x)))))
    (if (i32.eq (local.get $op) (i32.const 2)) (then (return (call $geluTanh (local.get $x)))))
    (if (i32.eq (local.get $op) (i32.const 3)) (then (return (call $sigmoid (local.get $x)))))
    (if (i32.eq (local.get $op) (i32.const 4)) (then (return (call $geluTanhGrad (local.get $x)))))
    (if (i32.eq (local.get $op) (i32.const 5)) (then (return (call $erf (local.get $x)))))
    (if (i32.eq (local.get $op) (i32.const 6)) (then (return (call $gelu (local.get $x)))))
    (call $geluGrad (local.get $x)))

  ;; out[i] = f(x[i]), i < n, contiguous float32. One loop per op (each call of $map below is inlined with its op a
  ;; constant, so the engine drops the other ops' code from that loop and keeps their constants out of registers).
  (func (export "unary") (param $op i32) (param $x i32) (param $out i32) (param $n i32)
    (if (i32.eqz (local.get $op)) (then (return (call $map (i32.const 0) (local.get $x) (local.get $out) (local.get $n)))))
    (if (i32.eq (local.get $op) (i32.const 1)) (then (return (call $map (i32.const 1) (local.get $x) (local.get $out) (local.get $n)))))
    (if (i32.eq (local.get $op) (i32.const 2)) (then (return (call $map (i32.const 2) (local.get $x) (local.get $out) (local.get $n)))))
    (if (i32.eq (local.get $op) (i32.const 3)) (then (return (call $map (i32.const 3) (local.get $x) (local.get $out) (local.get $n)))))
    (if (i32.eq (local.get $op) (i32.const 4)) (then (return (call $map (i32.const 4) (local.get $x) (local.get $out) (local.get $n)))))
    (if (i32.eq (local.get $op) (i32.const 5)) (then (return (call $map (i32.const 5) (local.get $x) (local.get $out) (local.get $n)))))
    (if (i32.eq (local.get $op) (i32.const 6)) (then (return (call $map (i32.const 6) (local.get $x) (local.get $out) (local.get $n)))))
    (call $map (i32.const 7) (local.get $x) (local.get $out) (local.get $n)))

  (func $map (param $op i32) (param $x i32) (param $out i32) (param $n i32)
    (local $end i32) (local $vend i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $out) (local.get $vend)))
        (v128.store (local.get $out) (call $apply (local.get $op) (v128.load (local.get $x))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $vloop)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (v128.store32_lane 0 (local.get $out) (call $apply (local.get $op) (v128.load32_splat (local.get $x))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $tail))))

  ;; the four float32 lanes of v summed pairwise into two float64 lanes, exactly
  (func $widen (param $v v128) (result v128)
    (f64x2.add (f64x2.promote_low_f32x4 (local.get $v))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))

  (func $total (param $a v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a))))

  ;; lane 0 of v, the others zero (a row's tail element, splat, going into a sum)
  (func $lane0 (param $v v128) (result v128)
    (v128.and (local.get $v) (v128.const i32x4 -1 0 0 0)))

  ;; Softmax (log = 0) or log-softmax (log = 1) of each of `rows` contiguous rows of `cols` float32.
  (func (export "softmax") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32) (param $log i32)
    (local $r i32) (local $j i32) (local $at i32) (local $row i32) (local $o i32)
    (local $vmax v128) (local $max f32) (local $mv v128) (local $e v128) (local $acc v128) (local $s v128) (local $c v128)
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $o (i32.add (local.get $out) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        ;; the row's max (pmax, one instruction, passes over NaN: a NaN element still makes its e^(x − max), the sum
        ;; and so the whole row NaN; a row of −inf uses 0)
        (local.set $vmax (v128.const f32x4 -inf -inf -inf -inf))
        (local.set $j (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
            (local.set $vmax (f32x4.pmax (local.get $vmax) (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $loop)))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $vmax (f32x4.pmax (local.get $vmax) (v128.load32_splat (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loop)))
        (local.set $vmax (f32x4.pmax (local.get $vmax) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vmax) (local.get $vmax))))
        (local.set $max (f32.max (f32x4.extract_lane 0 (local.get $vmax)) (f32x4.extract_lane 1 (local.get $vmax))))
        (if (f32.eq (local.get $max) (f32.const -inf)) (then (local.set $max (f32.const 0))))
        (local.set $mv (f32x4.splat (local.get $max)))
        ;; Σ e^(x − max), each e^(x − max) kept in the output for the last pass (one exp per element, as PyTorch)
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $s (v128.const i64x2 0 0))
        (local.set $j (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (local.set $e (call $exp (f32x4.sub (v128.load (i32.add (local.get $row) (local.get $at))) (local.get $mv))))
            (v128.store (i32.add (local.get $o) (local.get $at)) (local.get $e))
            (local.set $acc (f32x4.add (local.get $acc) (local.get $e)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (if (i32.eqz (i32.and (local.get $j) (i32.const 31)))
              (then
                (local.set $s (f64x2.add (local.get $s) (call $widen (local.get $acc))))
                (local.set $acc (v128.const i64x2 0 0))))
            (br $loop)))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (local.set $e (call $exp (f32x4.sub (v128.load32_splat (i32.add (local.get $row) (local.get $at))) (local.get $mv))))
            (v128.store32_lane 0 (i32.add (local.get $o) (local.get $at)) (local.get $e))
            (local.set $acc (f32x4.add (local.get $acc) (call $lane0 (local.get $e))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loop)))
        (local.set $s (f64x2.add (local.get $s) (call $widen (local.get $acc))))
        ;; log: (x − max) − log Σ (x − max is exact near the max, and log Σ ≤ log cols: no cancellation between
        ;; them, both ≤ 0 and ≥ 0); else the kept e^(x − max) · (1/Σ)
        (if (local.get $log)
          (then (local.set $c (f32x4.splat (f32.demote_f64 (call $log (call $total (local.get $s)))))))
          (else (local.set $c (f32x4.splat (f32.demote_f64 (f64.div (f64.const 1) (call $total (local.get $s))))))))
        (local.set $j (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols))
              (then
                (v128.store (i32.add (local.get $o) (local.get $at))
                  (if (result v128) (local.get $log)
                    (then (f32x4.sub (f32x4.sub (v128.load (i32.add (local.get $row) (local.get $at))) (local.get $mv)) (local.get $c)))
                    (else (f32x4.mul (v128.load (i32.add (local.get $o) (local.get $at))) (local.get $c)))))
                (local.set $j (i32.add (local.get $j) (i32.const 4))))
              (else
                (v128.store32_lane 0 (i32.add (local.get $o) (local.get $at))
                  (if (result v128) (local.get $log)
                    (then (f32x4.sub (f32x4.sub (v128.load32_splat (i32.add (local.get $row) (local.get $at))) (local.get $mv)) (local.get $c)))
                    (else (f32x4.mul (v128.load32_splat (i32.add (local.get $o) (local.get $at))) (local.get $c)))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))))
            (br $loop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))

  ;; Backward of `softmax`: log: dx = dy − e^y·Σdy; else dx = y·(dy − Σ dy·y). The sums as in `softmax`.
  (func (export "softmaxBackward") (param $y i32) (param $dy i32) (param $dx i32) (param $rows i32) (param $cols i32) (param $log i32)
    (local $r i32) (local $j i32) (local $at i32) (local $base i32)
    (local $t v128) (local $acc v128) (local $s v128) (local $sv v128)
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $base (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2)))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $s (v128.const i64x2 0 0))
        (local.set $j (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
            (local.set $at (i32.add (local.get $base) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $t (v128.load (i32.add (local.get $dy) (local.get $at))))
            (if (i32.eqz (local.get $log)) (then (local.set $t (f32x4.mul (local.get $t) (v128.load (i32.add (local.get $y) (local.get $at)))))))
            (local.set $acc (f32x4.add (local.get $acc) (local.get $t)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (if (i32.eqz (i32.and (local.get $j) (i32.const 31)))
              (then
                (local.set $s (f64x2.add (local.get $s) (call $widen (local.get $acc))))
                (local.set $acc (v128.const i64x2 0 0))))
            (br $loop)))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $at (i32.add (local.get $base) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $t (v128.load32_splat (i32.add (local.get $dy) (local.get $at))))
            (if (i32.eqz (local.get $log)) (then (local.set $t (f32x4.mul (local.get $t) (v128.load32_splat (i32.add (local.get $y) (local.get $at)))))))
            (local.set $acc (f32x4.add (local.get $acc) (call $lane0 (local.get $t))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loop)))
        (local.set $sv (f32x4.splat (f32.demote_f64 (call $total (f64x2.add (local.get $s) (call $widen (local.get $acc)))))))
        (local.set $j (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $at (i32.add (local.get $base) (i32.shl (local.get $j) (i32.const 2))))
            (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols))
              (then
                (v128.store (i32.add (local.get $dx) (local.get $at))
                  (call $softmaxGrad (v128.load (i32.add (local.get $y) (local.get $at))) (v128.load (i32.add (local.get $dy) (local.get $at)))
                    (local.get $sv) (local.get $log)))
                (local.set $j (i32.add (local.get $j) (i32.const 4))))
              (else
                (v128.store32_lane 0 (i32.add (local.get $dx) (local.get $at))
                  (call $softmaxGrad (v128.load32_splat (i32.add (local.get $y) (local.get $at))) (v128.load32_splat (i32.add (local.get $dy) (local.get $at)))
                    (local.get $sv) (local.get $log)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))))
            (br $loop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))

  (func $softmaxGrad (param $y v128) (param $dy v128) (param $s v128) (param $log i32) (result v128)
    (if (result v128) (local.get $log)
      (then (f32x4.sub (local.get $dy) (f32x4.mul (call $exp (local.get $y)) (local.get $s))))
      (else (f32x4.mul (local.get $y) (f32x4.sub (local.get $dy) (local.get $s)))))))
