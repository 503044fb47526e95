;; Layer norm and RMS norm over contiguous float32 rows, forward and backward, WebAssembly SIMD. Pointers are byte
;; offsets into the CPU backend's shared heap.
;;
;; The arithmetic is the TypeScript kernels' (kernels/support/norm-forward.ts and norm-backward.ts): every element
;; is computed in float64 by the same expression and rounded to float32 once. Only the row sums differ in order — four float64 accumulators over
;; columns j ≡ 0, 1, 2, 3 (mod 4), then the tail — which moves them by ~1e-16 relative. Four floats are loaded at
;; a time and worked on as two f64x2 halves ("lo": columns j, j+1; "hi": j+2, j+3). The inner loops call no
;; function: V8 saves every live vector register around a wasm call, and helper calls for the halves made the
;; forward pass 4.6× slower (18.7 ms against 4.0 for 4096 × 768, measured).
;;
;; flags: 1 = centred (layer norm: μ is the row mean and is stored; RMS norm: μ = 0), 2 = a weight, 4 = a bias.
;; Backward only: 8 = sum dw, 16 = sum db, 32 = write dx (a gradient nobody needs is not computed).
(module
  (import "env" "memory" (memory 1 65536 shared))

  (func $sum2 (param $v v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; y = (x − μ)·rstd (·w) (+b), rstd = 1/√(Σ(x − μ)²/cols + eps); mean[r] (centred) and rstd[r] stored as float32.
  (func (export "normForward") (param $x i32) (param $w i32) (param $b i32) (param $y i32) (param $mean i32)
      (param $rstd i32) (param $rows i32) (param $cols i32) (param $eps f64) (param $flags i32)
    (local $r i32) (local $j i32) (local $vcols i32) (local $row i32) (local $out i32) (local $at i32)
    (local $mu f64) (local $ss f64) (local $rs f64) (local $t f64)
    (local $v v128) (local $lo v128) (local $hi v128) (local $a0 v128) (local $a1 v128) (local $mv v128) (local $rv v128)
    (local.set $vcols (i32.and (local.get $cols) (i32.const -4)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $out (i32.add (local.get $y) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        ;; μ = Σx / cols (centred), else 0
        (local.set $mu (f64.const 0))
        (if (i32.and (local.get $flags) (i32.const 1))
          (then
            (local.set $a0 (v128.const f64x2 0 0))
            (local.set $a1 (v128.const f64x2 0 0))
            (local.set $j (i32.const 0))
            (block $done
              (loop $loop
                (br_if $done (i32.ge_u (local.get $j) (local.get $vcols)))
                (local.set $v (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
                (local.set $a0 (f64x2.add (local.get $a0) (f64x2.promote_low_f32x4 (local.get $v))))
                (local.set $a1 (f64x2.add (local.get $a1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $loop)))
            (local.set $mu (f64.add (call $sum2 (local.get $a0)) (call $sum2 (local.get $a1))))
            (block $done
              (loop $loop
                (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
                (local.set $mu (f64.add (local.get $mu)
                  (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $loop)))
            (local.set $mu (f64.div (local.get $mu) (f64.convert_i32_u (local.get $cols))))))
        (local.set $mv (f64x2.splat (local.get $mu)))
        ;; Σ(x − μ)²
        (local.set $a0 (v128.const f64x2 0 0))
        (local.set $a1 (v128.const f64x2 0 0))
        (local.set $j (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $vcols)))
            (local.set $v (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $lo (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mv)))
            (local.set $hi (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mv)))
            (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $lo) (local.get $lo))))
            (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $hi) (local.get $hi))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $loop)))
        (local.set $ss (f64.add (call $sum2 (local.get $a0)) (call $sum2 (local.get $a1))))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $t (f64.sub
              (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
              (local.get $mu)))
            (local.set $ss (f64.add (local.get $ss) (f64.mul (local.get $t) (local.get $t))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loop)))
        (local.set $rs (f64.div (f64.const 1)
          (f64.sqrt (f64.add (f64.div (local.get $ss) (f64.convert_i32_u (local.get $cols))) (local.get $eps)))))
        (local.set $rv (f64x2.splat (local.get $rs)))
        (if (i32.and (local.get $flags) (i32.const 1))
          (then (f32.store (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2))) (f32.demote_f64 (local.get $mu)))))
        (f32.store (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))) (f32.demote_f64 (local.get $rs)))
        ;; y = (x − μ)·rstd, then ·w and +b where given
        (local.set $j (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $vcols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (local.set $v (v128.load (i32.add (local.get $row) (local.get $at))))
            (local.set $lo (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mv)) (local.get $rv)))
            (local.set $hi (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mv)) (local.get $rv)))
            (if (i32.and (local.get $flags) (i32.const 2))
              (then
                (local.set $v (v128.load (i32.add (local.get $w) (local.get $at))))
                (local.set $lo (f64x2.mul (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
                (local.set $hi (f64x2.mul (local.get $hi) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))))
            (if (i32.and (local.get $flags) (i32.const 4))
              (then
                (local.set $v (v128.load (i32.add (local.get $b) (local.get $at))))
                (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
                (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))))
            (v128.store (i32.add (local.get $out) (local.get $at)) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $loop)))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (local.set $t (f64.mul (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $row) (local.get $at)))) (local.get $mu))
              (local.get $rs)))
            (if (i32.and (local.get $flags) (i32.const 2))
              (then (local.set $t (f64.mul (local.get $t) (f64.promote_f32 (f32.load (i32.add (local.get $w) (local.get $at))))))))
            (if (i32.and (local.get $flags) (i32.const 4))
              (then (local.set $t (f64.add (local.get $t) (f64.promote_f32 (f32.load (i32.add (local.get $b) (local.get $at))))))))
            (f32.store (i32.add (local.get $out) (local.get $at)) (f32.demote_f64 (local.get $t)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))

  ;; With x̂ = (x − μ)·rstd and g = dy·w (dy without a weight):
  ;;   dx = rstd·(g − mean(g) − x̂·mean(g·x̂))   (RMS norm: no mean(g) term)
  ;;   dw[j] += dy·x̂ (flag 8), db[j] += dy (flag 16) — dw and db are float64 arrays, summed over the rows in order.
  (func (export "normBackward") (param $dy i32) (param $x i32) (param $w i32) (param $mean i32) (param $rstd i32)
      (param $dx i32) (param $dw i32) (param $db i32) (param $rows i32) (param $cols i32) (param $flags i32)
    (local $r i32) (local $j i32) (local $vcols i32) (local $xrow i32) (local $grow i32) (local $out i32) (local $at i32)
    (local $at8 i32) (local $mu f64) (local $rs f64) (local $mg f64) (local $mgx f64) (local $xh f64) (local $g f64) (local $d f64)
    (local $v v128) (local $dlo v128) (local $dhi v128) (local $xlo v128) (local $xhi v128) (local $glo v128) (local $ghi v128)
    (local $sg0 v128) (local $sg1 v128) (local $sx0 v128) (local $sx1 v128) (local $mv v128) (local $rv v128) (local $mgv v128)
    (local $mgxv v128) (local $sg f64) (local $sgx f64)
    (local.set $vcols (i32.and (local.get $cols) (i32.const -4)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $xrow (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $grow (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $out (i32.add (local.get $dx) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $mu (f64.const 0))
        (if (i32.and (local.get $flags) (i32.const 1))
          (then (local.set $mu (f64.promote_f32 (f32.load (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2))))))))
        (local.set $rs (f64.promote_f32 (f32.load (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $mv (f64x2.splat (local.get $mu)))
        (local.set $rv (f64x2.splat (local.get $rs)))
        ;; pass 1: Σg, Σg·x̂, and the weight and bias gradients
        (local.set $sg0 (v128.const f64x2 0 0))
        (local.set $sg1 (v128.const f64x2 0 0))
        (local.set $sx0 (v128.const f64x2 0 0))
        (local.set $sx1 (v128.const f64x2 0 0))
        (local.set $j (i32.const 0))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $vcols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (local.set $at8 (i32.shl (local.get $j) (i32.const 3)))
            (local.set $v (v128.load (i32.add (local.get $xrow) (local.get $at))))
            (local.set $xlo (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mv)) (local.get $rv)))
            (local.set $xhi (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mv)) (local.get $rv)))
            (local.set $v (v128.load (i32.add (local.get $grow) (local.get $at))))
            (local.set $dlo (f64x2.promote_low_f32x4 (local.get $v)))
            (local.set $dhi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
            (local.set $glo (local.get $dlo))
            (local.set $ghi (local.get $dhi))
            (if (i32.and (local.get $flags) (i32.const 2))
              (then
                (local.set $v (v128.load (i32.add (local.get $w) (local.get $at))))
                (local.set $glo (f64x2.mul (local.get $dlo) (f64x2.promote_low_f32x4 (local.get $v))))
                (local.set $ghi (f64x2.mul (local.get $dhi) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))))
            (if (i32.and (local.get $flags) (i32.const 8))
              (then
                (v128.store (i32.add (local.get $dw) (local.get $at8))
                  (f64x2.add (v128.load (i32.add (local.get $dw) (local.get $at8))) (f64x2.mul (local.get $dlo) (local.get $xlo))))
                (v128.store offset=16 (i32.add (local.get $dw) (local.get $at8))
                  (f64x2.add (v128.load offset=16 (i32.add (local.get $dw) (local.get $at8))) (f64x2.mul (local.get $dhi) (local.get $xhi))))))
            (if (i32.and (local.get $flags) (i32.const 16))
              (then
                (v128.store (i32.add (local.get $db) (local.get $at8))
                  (f64x2.add (v128.load (i32.add (local.get $db) (local.get $at8))) (local.get $dlo)))
                (v128.store offset=16 (i32.add (local.get $db) (local.get $at8))
                  (f64x2.add (v128.load offset=16 (i32.add (local.get $db) (local.get $at8))) (local.get $dhi)))))
            (local.set $sg0 (f64x2.add (local.get $sg0) (local.get $glo)))
            (local.set $sg1 (f64x2.add (local.get $sg1) (local.get $ghi)))
            (local.set $sx0 (f64x2.add (local.get $sx0) (f64x2.mul (local.get $glo) (local.get $xlo))))
            (local.set $sx1 (f64x2.add (local.get $sx1) (f64x2.mul (local.get $ghi) (local.get $xhi))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $loop)))
        (local.set $sg (f64.add (call $sum2 (local.get $sg0)) (call $sum2 (local.get $sg1))))
        (local.set $sgx (f64.add (call $sum2 (local.get $sx0)) (call $sum2 (local.get $sx1))))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (local.set $at8 (i32.shl (local.get $j) (i32.const 3)))
            (local.set $xh (f64.mul (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $xrow) (local.get $at)))) (local.get $mu))
              (local.get $rs)))
            (local.set $d (f64.promote_f32 (f32.load (i32.add (local.get $grow) (local.get $at)))))
            (local.set $g (local.get $d))
            (if (i32.and (local.get $flags) (i32.const 2))
              (then (local.set $g (f64.mul (local.get $d) (f64.promote_f32 (f32.load (i32.add (local.get $w) (local.get $at))))))))
            (if (i32.and (local.get $flags) (i32.const 8))
              (then
                (f64.store (i32.add (local.get $dw) (local.get $at8))
                  (f64.add (f64.load (i32.add (local.get $dw) (local.get $at8))) (f64.mul (local.get $d) (local.get $xh))))))
            (if (i32.and (local.get $flags) (i32.const 16))
              (then
                (f64.store (i32.add (local.get $db) (local.get $at8))
                  (f64.add (f64.load (i32.add (local.get $db) (local.get $at8))) (local.get $d)))))
            (local.set $sg (f64.add (local.get $sg) (local.get $g)))
            (local.set $sgx (f64.add (local.get $sgx) (f64.mul (local.get $g) (local.get $xh))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loop)))
        (local.set $mg (f64.const 0))
        (if (i32.and (local.get $flags) (i32.const 1))
          (then (local.set $mg (f64.div (local.get $sg) (f64.convert_i32_u (local.get $cols))))))
        (local.set $mgx (f64.div (local.get $sgx) (f64.convert_i32_u (local.get $cols))))
        (local.set $mgv (f64x2.splat (local.get $mg)))
        (local.set $mgxv (f64x2.splat (local.get $mgx)))
        ;; pass 2: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), where wanted
        (local.set $j (i32.const 0))
        (if (i32.eqz (i32.and (local.get $flags) (i32.const 32)))
          (then (local.set $j (local.get $cols))))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $vcols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (local.set $v (v128.load (i32.add (local.get $xrow) (local.get $at))))
            (local.set $xlo (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mv)) (local.get $rv)))
            (local.set $xhi (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mv)) (local.get $rv)))
            (local.set $v (v128.load (i32.add (local.get $grow) (local.get $at))))
            (local.set $glo (f64x2.promote_low_f32x4 (local.get $v)))
            (local.set $ghi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
            (if (i32.and (local.get $flags) (i32.const 2))
              (then
                (local.set $v (v128.load (i32.add (local.get $w) (local.get $at))))
                (local.set $glo (f64x2.mul (local.get $glo) (f64x2.promote_low_f32x4 (local.get $v))))
                (local.set $ghi (f64x2.mul (local.get $ghi) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))))
            (v128.store (i32.add (local.get $out) (local.get $at)) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (f64x2.mul (local.get $rv)
                (f64x2.sub (f64x2.sub (local.get $glo) (local.get $mgv)) (f64x2.mul (local.get $xlo) (local.get $mgxv)))))
              (f32x4.demote_f64x2_zero (f64x2.mul (local.get $rv)
                (f64x2.sub (f64x2.sub (local.get $ghi) (local.get $mgv)) (f64x2.mul (local.get $xhi) (local.get $mgxv)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $loop)))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (local.set $xh (f64.mul (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $xrow) (local.get $at)))) (local.get $mu))
              (local.get $rs)))
            (local.set $g (f64.promote_f32 (f32.load (i32.add (local.get $grow) (local.get $at)))))
            (if (i32.and (local.get $flags) (i32.const 2))
              (then (local.set $g (f64.mul (local.get $g) (f64.promote_f32 (f32.load (i32.add (local.get $w) (local.get $at))))))))
            (f32.store (i32.add (local.get $out) (local.get $at)) (f32.demote_f64
              (f64.mul (local.get $rs) (f64.sub (f64.sub (local.get $g) (local.get $mg)) (f64.mul (local.get $xh) (local.get $mgx))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop)))))
