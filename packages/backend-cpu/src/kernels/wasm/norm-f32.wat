;; Layer norm and RMS norm over contiguous float32 rows, forward and backward, WebAssembly SIMD. Pointers are byte
;; offsets into the CPU backend's shared heap.
;;
;; Arithmetic is float32 (f32x4, four lanes). Row sums are float32 partial sums per lane over blocks of 8 terms, each
;; block then added into float64: a lane's block errs by at most 7U of the magnitudes it summed (U = 2⁻²⁴), and the
;; float64 total adds nothing that matters. (Widening every vector to float64 instead was bound by the conversions,
;; which all run on one port of these x86 cores: it made the backward 1.5× slower.)
;; - The mean is found in two steps: μa, the row's float32 sum, rounded to float32 (within 8U·mean|x| of μ), then
;;   δ = mean(x − μa) in the same way — its terms are small where the row is concentrated, so δ is within
;;   8U·mean|x − μa| — and μ = μa + δ is kept as the pair (μa, δ): a deviation is d = (x − μa) − δ, whose first
;;   subtraction is exact wherever x is near μa (Sterbenz). A row with mean 1e4 and spread 1e-2 keeps its
;;   deviations to float32 rounding, where a float32 μ would move every one of them by up to 5e-4 (half an ulp of 1e4).
;; - The variance is the mean of squared deviations (two passes, never E[x²] − E[x]², which cancels); rstd =
;;   1/√(var + eps) in float64, rounded once.
;; - The backward takes the float32 mean the forward saved as its μa (it is within U·|μ| of μ) and finds δ again
;;   while it sums Σg and Σg·x̂; x̂ moves by δ·rstd between the two, and Σg·x̂ is corrected by that amount times Σg.
;;   The weight and bias gradients are summed over rows in float32 blocks of 8 rows, each block then added into the
;;   float64 partials the caller adds up.
;; The bounds on each result are derived and tested in test/norms.ts.
;;
;; flags: 1 = centred (layer norm: μ is the row mean and is stored; RMS norm: μ = 0), 2 = a weight, 4 = a bias.
;; Backward only: 8 = sum dw, 16 = sum db, 32 = write dx (a gradient nobody needs is not computed).
;;
;; Helper functions keep the passes readable; scripts/build-wasm.mjs inlines every call (V8 does not, and saves every
;; live vector register around one). A row's last cols mod 4 elements go through the same vector helpers on a splat,
;; lane 0 of which is kept, so every element of a row gets the same arithmetic wherever it sits.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; the four float32 lanes of v summed pairwise into two float64 lanes (lanes 0 + 2, 1 + 3), exactly
  (func $widen (param $v v128) (result v128)
    (f64x2.add (f64x2.promote_low_f32x4 (local.get $v))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))

  (func $total (param $a v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a))))

  ;; lane 0 of v, the others zero (a row's tail element, splat, going into a sum)
  (func $lane0 (param $v v128) (result v128)
    (v128.and (local.get $v) (v128.const i32x4 -1 0 0 0)))

  ;; a vector at p where `on`, else zeros (a weight or bias the flags leave out is never read); ...1: p's float32, splat
  (func $ldIf (param $p i32) (param $on i32) (result v128)
    (if (result v128) (local.get $on) (then (v128.load (local.get $p))) (else (v128.const i64x2 0 0))))
  (func $ldIf1 (param $p i32) (param $on i32) (result v128)
    (if (result v128) (local.get $on) (then (v128.load32_splat (local.get $p))) (else (v128.const i64x2 0 0))))

  ;; d = (x − μa) − δ, lane by lane (a, b: splat; (0, 0) for RMS norm, where it is x itself)
  (func $dev (param $v v128) (param $a v128) (param $b v128) (result v128)
    (f32x4.sub (f32x4.sub (local.get $v) (local.get $a)) (local.get $b)))

  ;; the term a row sum adds for one vector: d, or d² where `square`
  (func $term (param $v v128) (param $a v128) (param $b v128) (param $square i32) (result v128)
    (local $d v128)
    (local.set $d (call $dev (local.get $v) (local.get $a) (local.get $b)))
    (if (result v128) (local.get $square) (then (f32x4.mul (local.get $d) (local.get $d))) (else (local.get $d))))

  ;; Σ over a row of d = (x − a) − b, or of d² where `square`: two float32 accumulators of four lanes, each lane
  ;; summing at most 8 terms before the pair goes into the float64 total.
  (func $rowSum (param $row i32) (param $cols i32) (param $a v128) (param $b v128) (param $square i32) (result f64)
    (local $j i32) (local $at i32) (local $a0 v128) (local $a1 v128) (local $s v128)
    (block $done
      (loop $loop
        (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $cols)))
        (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $a0 (f32x4.add (local.get $a0) (call $term (v128.load (local.get $at)) (local.get $a) (local.get $b) (local.get $square))))
        (local.set $a1 (f32x4.add (local.get $a1) (call $term (v128.load offset=16 (local.get $at)) (local.get $a) (local.get $b) (local.get $square))))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (if (i32.eqz (i32.and (local.get $j) (i32.const 63)))
          (then
            (local.set $s (f64x2.add (local.get $s) (call $widen (f32x4.add (local.get $a0) (local.get $a1)))))
            (local.set $a0 (v128.const i64x2 0 0))
            (local.set $a1 (v128.const i64x2 0 0))))
        (br $loop)))
    ;; the rest (under 64 elements) in float32 too: then at most 8 + 1 + 3 terms in a lane
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
        (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols))
          (then
            (local.set $a1 (f32x4.add (local.get $a1) (call $term (v128.load (local.get $at)) (local.get $a) (local.get $b) (local.get $square))))
            (local.set $j (i32.add (local.get $j) (i32.const 4))))
          (else
            (local.set $a1 (f32x4.add (local.get $a1)
              (call $lane0 (call $term (v128.load32_splat (local.get $at)) (local.get $a) (local.get $b) (local.get $square)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))))
        (br $loop)))
    (call $total (f64x2.add (f64x2.add (local.get $s) (call $widen (local.get $a0))) (call $widen (local.get $a1)))))

  ;; y = d·rstd (·w) (+b) for one vector of x (w and b: that vector of the weight and bias, used as flags say)
  (func $normOut (param $v v128) (param $a v128) (param $b v128) (param $rv v128) (param $w v128) (param $bias v128) (param $flags i32) (result v128)
    (local $t v128)
    (local.set $t (f32x4.mul (call $dev (local.get $v) (local.get $a) (local.get $b)) (local.get $rv)))
    (if (i32.and (local.get $flags) (i32.const 2)) (then (local.set $t (f32x4.mul (local.get $t) (local.get $w)))))
    (if (i32.and (local.get $flags) (i32.const 4)) (then (local.set $t (f32x4.add (local.get $t) (local.get $bias)))))
    (local.get $t))

  ;; y = (x − μ)·rstd (·w) (+b), rstd = 1/√(Σ(x − μ)²/cols + eps); mean[r] (centred) and rstd[r] stored as float32.
  (func (export "normForward") (param $x i32) (param $w i32) (param $b i32) (param $y i32) (param $mean i32)
      (param $rstd i32) (param $rows i32) (param $cols i32) (param $eps f64) (param $flags i32)
    (local $r i32) (local $j i32) (local $at i32) (local $row i32) (local $out i32) (local $n f64)
    (local $mua f32) (local $delta f64) (local $rs f32) (local $av v128) (local $bv v128) (local $rv v128)
    (local.set $n (f64.convert_i32_u (local.get $cols)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $out (i32.add (local.get $y) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $av (v128.const i64x2 0 0))
        (local.set $bv (v128.const i64x2 0 0))
        (if (i32.and (local.get $flags) (i32.const 1))
          (then
            (local.set $mua (f32.demote_f64 (f64.div (call $rowSum (local.get $row) (local.get $cols) (local.get $av) (local.get $bv) (i32.const 0)) (local.get $n))))
            (local.set $av (f32x4.splat (local.get $mua)))
            (local.set $delta (f64.div (call $rowSum (local.get $row) (local.get $cols) (local.get $av) (local.get $bv) (i32.const 0)) (local.get $n)))
            (local.set $bv (f32x4.splat (f32.demote_f64 (local.get $delta))))
            (f32.store (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2)))
              (f32.demote_f64 (f64.add (f64.promote_f32 (local.get $mua)) (local.get $delta))))))
        (local.set $rs (f32.demote_f64 (f64.div (f64.const 1) (f64.sqrt (f64.add
          (f64.div (call $rowSum (local.get $row) (local.get $cols) (local.get $av) (local.get $bv) (i32.const 1)) (local.get $n))
          (local.get $eps))))))
        (local.set $rv (f32x4.splat (local.get $rs)))
        (f32.store (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))) (local.get $rs))
        (local.set $j (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (v128.store (i32.add (local.get $out) (local.get $at))
              (call $normOut (v128.load (i32.add (local.get $row) (local.get $at))) (local.get $av) (local.get $bv) (local.get $rv)
                (call $ldIf (i32.add (local.get $w) (local.get $at)) (i32.and (local.get $flags) (i32.const 2)))
                (call $ldIf (i32.add (local.get $b) (local.get $at)) (i32.and (local.get $flags) (i32.const 4))) (local.get $flags)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $loop)))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (v128.store32_lane 0 (i32.add (local.get $out) (local.get $at))
              (call $normOut (v128.load32_splat (i32.add (local.get $row) (local.get $at))) (local.get $av) (local.get $bv) (local.get $rv)
                (call $ldIf1 (i32.add (local.get $w) (local.get $at)) (i32.and (local.get $flags) (i32.const 2)))
                (call $ldIf1 (i32.add (local.get $b) (local.get $at)) (i32.and (local.get $flags) (i32.const 4))) (local.get $flags)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))

  ;; With x̂ = (x − μ)·rstd and g = dy·w (dy without a weight):
  ;;   dx = rstd·((g − mean(g)) − x̂·mean(g·x̂))   (RMS norm: no mean(g) term)
  ;;   dw[j] += dy·x̂ (flag 8), db[j] += dy (flag 16) — dw and db are float64 arrays, summed over the rows in order: in
  ;;   float32 blocks of 8 rows at acc (dw's) and acc + 4·cols (db's), zero on entry, each block then added to dw / db.
  (func $grad (param $dy v128) (param $w v128) (param $flags i32) (result v128)
    (if (result v128) (i32.and (local.get $flags) (i32.const 2))
      (then (f32x4.mul (local.get $dy) (local.get $w)))
      (else (local.get $dy))))

  ;; part[j] += acc[j] (float32 into float64), acc[j] = 0, for j < n
  (func $flush (param $acc i32) (param $part i32) (param $n i32)
    (local $j i32) (local $a i32) (local $p i32) (local $v v128)
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $p (i32.add (local.get $part) (i32.shl (local.get $j) (i32.const 3))))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n))
          (then
            (local.set $v (v128.load (local.get $a)))
            (v128.store (local.get $p) (f64x2.add (v128.load (local.get $p)) (f64x2.promote_low_f32x4 (local.get $v))))
            (v128.store offset=16 (local.get $p) (f64x2.add (v128.load offset=16 (local.get $p))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
            (v128.store (local.get $a) (v128.const i64x2 0 0))
            (local.set $j (i32.add (local.get $j) (i32.const 4))))
          (else
            (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (f64.promote_f32 (f32.load (local.get $a)))))
            (f32.store (local.get $a) (f32.const 0))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))))
        (br $loop))))

  ;; pass 1 of one row: Σ(x − μa), Σg and Σg·x̂a with x̂a = (x − μa)·rstd, as float64 totals (see $rowSum for the
  ;; blocks), returned in that order.
  (func $backwardSums (param $xrow i32) (param $grow i32) (param $w i32) (param $cols i32) (param $av v128) (param $rv v128) (param $flags i32)
      (result f64 f64 f64)
    (local $j i32) (local $at i32) (local $e v128) (local $g v128)
    (local $ae v128) (local $ag v128) (local $ax v128) (local $se v128) (local $sg v128) (local $sx v128)
    (block $done
      (loop $loop
        (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
        (local.set $at (i32.shl (local.get $j) (i32.const 2)))
        (local.set $e (f32x4.sub (v128.load (i32.add (local.get $xrow) (local.get $at))) (local.get $av)))
        (local.set $g (call $grad (v128.load (i32.add (local.get $grow) (local.get $at)))
          (call $ldIf (i32.add (local.get $w) (local.get $at)) (i32.and (local.get $flags) (i32.const 2))) (local.get $flags)))
        (local.set $ae (f32x4.add (local.get $ae) (local.get $e)))
        (local.set $ag (f32x4.add (local.get $ag) (local.get $g)))
        (local.set $ax (f32x4.add (local.get $ax) (f32x4.mul (local.get $g) (f32x4.mul (local.get $e) (local.get $rv)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (if (i32.eqz (i32.and (local.get $j) (i32.const 31)))
          (then
            (local.set $se (f64x2.add (local.get $se) (call $widen (local.get $ae))))
            (local.set $sg (f64x2.add (local.get $sg) (call $widen (local.get $ag))))
            (local.set $sx (f64x2.add (local.get $sx) (call $widen (local.get $ax))))
            (local.set $ae (v128.const i64x2 0 0))
            (local.set $ag (v128.const i64x2 0 0))
            (local.set $ax (v128.const i64x2 0 0))))
        (br $loop)))
    (local.set $se (f64x2.add (local.get $se) (call $widen (local.get $ae))))
    (local.set $sg (f64x2.add (local.get $sg) (call $widen (local.get $ag))))
    (local.set $sx (f64x2.add (local.get $sx) (call $widen (local.get $ax))))
    (local.set $ae (v128.const i64x2 0 0))
    (local.set $ag (v128.const i64x2 0 0))
    (local.set $ax (v128.const i64x2 0 0))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
        (local.set $at (i32.shl (local.get $j) (i32.const 2)))
        (local.set $e (call $lane0 (f32x4.sub (v128.load32_splat (i32.add (local.get $xrow) (local.get $at))) (local.get $av))))
        (local.set $g (call $lane0 (call $grad (v128.load32_splat (i32.add (local.get $grow) (local.get $at)))
          (call $ldIf1 (i32.add (local.get $w) (local.get $at)) (i32.and (local.get $flags) (i32.const 2))) (local.get $flags))))
        (local.set $ae (f32x4.add (local.get $ae) (local.get $e)))
        (local.set $ag (f32x4.add (local.get $ag) (local.get $g)))
        (local.set $ax (f32x4.add (local.get $ax) (f32x4.mul (local.get $g) (f32x4.mul (local.get $e) (local.get $rv)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $loop)))
    (call $total (f64x2.add (local.get $se) (call $widen (local.get $ae))))
    (call $total (f64x2.add (local.get $sg) (call $widen (local.get $ag))))
    (call $total (f64x2.add (local.get $sx) (call $widen (local.get $ax)))))

  ;; pass 2 for one vector (`tail`: lane 0 of a splat, stored alone): dx = rstd·((g − mg) − x̂·mgx) where wanted,
  ;; and the row-block sums of dy·x̂ and dy at acc + at and accB + at.
  (func $backwardOut (param $xp i32) (param $gp i32) (param $wp i32) (param $dxp i32) (param $accp i32) (param $accbp i32)
      (param $av v128) (param $bv v128) (param $rv v128) (param $mg v128) (param $mgx v128) (param $flags i32) (param $tail i32)
    (local $x v128) (local $d v128) (local $xh v128) (local $g v128) (local $w v128) (local $out v128)
    (if (local.get $tail)
      (then
        (local.set $x (v128.load32_splat (local.get $xp)))
        (local.set $d (v128.load32_splat (local.get $gp)))
        (local.set $w (call $ldIf1 (local.get $wp) (i32.and (local.get $flags) (i32.const 2)))))
      (else
        (local.set $x (v128.load (local.get $xp)))
        (local.set $d (v128.load (local.get $gp)))
        (local.set $w (call $ldIf (local.get $wp) (i32.and (local.get $flags) (i32.const 2))))))
    (local.set $xh (f32x4.mul (call $dev (local.get $x) (local.get $av) (local.get $bv)) (local.get $rv)))
    (if (i32.and (local.get $flags) (i32.const 32))
      (then
        (local.set $g (call $grad (local.get $d) (local.get $w) (local.get $flags)))
        (local.set $out (f32x4.mul (local.get $rv)
          (f32x4.sub (f32x4.sub (local.get $g) (local.get $mg)) (f32x4.mul (local.get $xh) (local.get $mgx)))))
        (if (local.get $tail)
          (then (v128.store32_lane 0 (local.get $dxp) (local.get $out)))
          (else (v128.store (local.get $dxp) (local.get $out))))))
    (if (local.get $tail)
      (then
        (if (i32.and (local.get $flags) (i32.const 8))
          (then (f32.store (local.get $accp) (f32.add (f32.load (local.get $accp)) (f32x4.extract_lane 0 (f32x4.mul (local.get $d) (local.get $xh)))))))
        (if (i32.and (local.get $flags) (i32.const 16))
          (then (f32.store (local.get $accbp) (f32.add (f32.load (local.get $accbp)) (f32x4.extract_lane 0 (local.get $d)))))))
      (else
        (if (i32.and (local.get $flags) (i32.const 8))
          (then (v128.store (local.get $accp) (f32x4.add (v128.load (local.get $accp)) (f32x4.mul (local.get $d) (local.get $xh))))))
        (if (i32.and (local.get $flags) (i32.const 16))
          (then (v128.store (local.get $accbp) (f32x4.add (v128.load (local.get $accbp)) (local.get $d))))))))

  (func (export "normBackward") (param $dy i32) (param $x i32) (param $w i32) (param $mean i32) (param $rstd i32)
      (param $dx i32) (param $dw i32) (param $db i32) (param $acc i32) (param $rows i32) (param $cols i32) (param $flags i32)
    (local $r i32) (local $j i32) (local $at i32) (local $xrow i32) (local $grow i32) (local $out i32) (local $accB i32)
    (local $n f64) (local $rs f64) (local $delta f64) (local $se f64) (local $sg f64) (local $sgx f64)
    (local $av v128) (local $bv v128) (local $rv v128) (local $mg v128) (local $mgx v128)
    (local.set $n (f64.convert_i32_u (local.get $cols)))
    (local.set $accB (i32.add (local.get $acc) (i32.shl (local.get $cols) (i32.const 2))))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $xrow (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $grow (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $out (i32.add (local.get $dx) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $av (v128.const i64x2 0 0))
        (if (i32.and (local.get $flags) (i32.const 1))
          (then (local.set $av (v128.load32_splat (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2)))))))
        (local.set $rv (v128.load32_splat (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $rs (f64.promote_f32 (f32x4.extract_lane 0 (local.get $rv))))
        (call $backwardSums (local.get $xrow) (local.get $grow) (local.get $w) (local.get $cols) (local.get $av) (local.get $rv) (local.get $flags))
        (local.set $sgx)
        (local.set $sg)
        (local.set $se)
        ;; centred: μ = μa + δ; x̂ = x̂a − δ·rstd, so Σg·x̂ = Σg·x̂a − δ·rstd·Σg
        (local.set $delta (f64.const 0))
        (local.set $mg (v128.const i64x2 0 0))
        (if (i32.and (local.get $flags) (i32.const 1))
          (then
            (local.set $delta (f64.div (local.get $se) (local.get $n)))
            (local.set $sgx (f64.sub (local.get $sgx) (f64.mul (f64.mul (local.get $delta) (local.get $rs)) (local.get $sg))))
            (local.set $mg (f32x4.splat (f32.demote_f64 (f64.div (local.get $sg) (local.get $n)))))))
        (local.set $bv (f32x4.splat (f32.demote_f64 (local.get $delta))))
        (local.set $mgx (f32x4.splat (f32.demote_f64 (f64.div (local.get $sgx) (local.get $n)))))
        ;; pass 2: dx, and the row blocks of dw and db
        (local.set $j (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (call $backwardOut (i32.add (local.get $xrow) (local.get $at)) (i32.add (local.get $grow) (local.get $at)) (i32.add (local.get $w) (local.get $at))
              (i32.add (local.get $out) (local.get $at)) (i32.add (local.get $acc) (local.get $at)) (i32.add (local.get $accB) (local.get $at))
              (local.get $av) (local.get $bv) (local.get $rv) (local.get $mg) (local.get $mgx) (local.get $flags) (i32.const 0))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $loop)))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (call $backwardOut (i32.add (local.get $xrow) (local.get $at)) (i32.add (local.get $grow) (local.get $at)) (i32.add (local.get $w) (local.get $at))
              (i32.add (local.get $out) (local.get $at)) (i32.add (local.get $acc) (local.get $at)) (i32.add (local.get $accB) (local.get $at))
              (local.get $av) (local.get $bv) (local.get $rv) (local.get $mg) (local.get $mgx) (local.get $flags) (i32.const 1))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        ;; every 8 rows, and after the last, the float32 block sums go into the float64 partials
        (if (i32.or (i32.eqz (i32.and (local.get $r) (i32.const 7))) (i32.eq (local.get $r) (local.get $rows)))
          (then
            (if (i32.and (local.get $flags) (i32.const 8)) (then (call $flush (local.get $acc) (local.get $dw) (local.get $cols))))
            (if (i32.and (local.get $flags) (i32.const 16)) (then (call $flush (local.get $accB) (local.get $db) (local.get $cols))))))
        (br $rloop)))))
