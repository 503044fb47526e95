;; Elementwise float32 kernels, WebAssembly SIMD (128-bit), over the CPU backend's shared heap. Pointers are byte
;; offsets; strides are in elements.
;;
;; - binary: out[i] = a[i·sa] op b[i·sb] for add, sub, mul, div with sa, sb ∈ {0, 1} (a broadcast scalar or a
;;   contiguous row). f32 arithmetic rounds exactly as the TypeScript kernels' float64 arithmetic stored to a
;;   Float32Array (for + − × ÷ the double rounding is innocuous), so both paths give the same bits.
;; - accumulate / narrow: the sum over outer (strided) axes in float64, as the TypeScript reduce does: acc[j] +=
;;   x[j] over contiguous rows, in the same order, then out[j] = f32(acc[j]).
;; - sum: Σ of a contiguous float32 run in float64, in four accumulators (then the tail): another order than the
;;   TypeScript loop's, equal to ~1e-16 relative, so the float32 result differs only within 1e-16 of a rounding
;;   boundary. Inner-axis sums (a loss's total, row sums) run on it.
;; - adamw: the dense AdamW update of kernels/adamw.ts in float64 lanes, operation for operation (float64 + − × ÷
;;   and √ round the same everywhere), so the same bits.
(module
  (import "env" "memory" (memory 1 65536 shared))

  (func $add (param $a i32) (param $sa i32) (param $b i32) (param $sb i32) (param $out i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $va v128) (local $vb v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (if (i32.lt_u (local.get $out) (local.get $vend))
      (then
        (if (i32.and (local.get $sa) (local.get $sb))
          (then
            (loop $both
              (v128.store (local.get $out) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
              (local.set $a (i32.add (local.get $a) (i32.const 16)))
              (local.set $b (i32.add (local.get $b) (i32.const 16)))
              (local.set $out (i32.add (local.get $out) (i32.const 16)))
              (br_if $both (i32.lt_u (local.get $out) (local.get $vend)))))
          (else
            (if (local.get $sa)
              (then
                (local.set $vb (v128.load32_splat (local.get $b)))
                (loop $arow
                  (v128.store (local.get $out) (f32x4.add (v128.load (local.get $a)) (local.get $vb)))
                  (local.set $a (i32.add (local.get $a) (i32.const 16)))
                  (local.set $out (i32.add (local.get $out) (i32.const 16)))
                  (br_if $arow (i32.lt_u (local.get $out) (local.get $vend)))))
              (else
                (local.set $va (v128.load32_splat (local.get $a)))
                (if (local.get $sb)
                  (then
                    (loop $brow
                      (v128.store (local.get $out) (f32x4.add (local.get $va) (v128.load (local.get $b))))
                      (local.set $b (i32.add (local.get $b) (i32.const 16)))
                      (local.set $out (i32.add (local.get $out) (i32.const 16)))
                      (br_if $brow (i32.lt_u (local.get $out) (local.get $vend)))))
                  (else
                    (local.set $va (f32x4.add (local.get $va) (v128.load32_splat (local.get $b))))
                    (loop $none
                      (v128.store (local.get $out) (local.get $va))
                      (local.set $out (i32.add (local.get $out) (i32.const 16)))
                      (br_if $none (i32.lt_u (local.get $out) (local.get $vend))))))))))))
    ;; the last n mod 4 elements
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (f32.add (f32.load (local.get $a)) (f32.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.shl (local.get $sa) (i32.const 2))))
        (local.set $b (i32.add (local.get $b) (i32.shl (local.get $sb) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $tail))))

  (func $sub (param $a i32) (param $sa i32) (param $b i32) (param $sb i32) (param $out i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $va v128) (local $vb v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (if (i32.lt_u (local.get $out) (local.get $vend))
      (then
        (if (i32.and (local.get $sa) (local.get $sb))
          (then
            (loop $both
              (v128.store (local.get $out) (f32x4.sub (v128.load (local.get $a)) (v128.load (local.get $b))))
              (local.set $a (i32.add (local.get $a) (i32.const 16)))
              (local.set $b (i32.add (local.get $b) (i32.const 16)))
              (local.set $out (i32.add (local.get $out) (i32.const 16)))
              (br_if $both (i32.lt_u (local.get $out) (local.get $vend)))))
          (else
            (if (local.get $sa)
              (then
                (local.set $vb (v128.load32_splat (local.get $b)))
                (loop $arow
                  (v128.store (local.get $out) (f32x4.sub (v128.load (local.get $a)) (local.get $vb)))
                  (local.set $a (i32.add (local.get $a) (i32.const 16)))
                  (local.set $out (i32.add (local.get $out) (i32.const 16)))
                  (br_if $arow (i32.lt_u (local.get $out) (local.get $vend)))))
              (else
                (local.set $va (v128.load32_splat (local.get $a)))
                (if (local.get $sb)
                  (then
                    (loop $brow
                      (v128.store (local.get $out) (f32x4.sub (local.get $va) (v128.load (local.get $b))))
                      (local.set $b (i32.add (local.get $b) (i32.const 16)))
                      (local.set $out (i32.add (local.get $out) (i32.const 16)))
                      (br_if $brow (i32.lt_u (local.get $out) (local.get $vend)))))
                  (else
                    (local.set $va (f32x4.sub (local.get $va) (v128.load32_splat (local.get $b))))
                    (loop $none
                      (v128.store (local.get $out) (local.get $va))
                      (local.set $out (i32.add (local.get $out) (i32.const 16)))
                      (br_if $none (i32.lt_u (local.get $out) (local.get $vend))))))))))))
    ;; the last n mod 4 elements
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (f32.sub (f32.load (local.get $a)) (f32.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.shl (local.get $sa) (i32.const 2))))
        (local.set $b (i32.add (local.get $b) (i32.shl (local.get $sb) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $tail))))

  (func $mul (param $a i32) (param $sa i32) (param $b i32) (param $sb i32) (param $out i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $va v128) (local $vb v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (if (i32.lt_u (local.get $out) (local.get $vend))
      (then
        (if (i32.and (local.get $sa) (local.get $sb))
          (then
            (loop $both
              (v128.store (local.get $out) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b))))
              (local.set $a (i32.add (local.get $a) (i32.const 16)))
              (local.set $b (i32.add (local.get $b) (i32.const 16)))
              (local.set $out (i32.add (local.get $out) (i32.const 16)))
              (br_if $both (i32.lt_u (local.get $out) (local.get $vend)))))
          (else
            (if (local.get $sa)
              (then
                (local.set $vb (v128.load32_splat (local.get $b)))
                (loop $arow
                  (v128.store (local.get $out) (f32x4.mul (v128.load (local.get $a)) (local.get $vb)))
                  (local.set $a (i32.add (local.get $a) (i32.const 16)))
                  (local.set $out (i32.add (local.get $out) (i32.const 16)))
                  (br_if $arow (i32.lt_u (local.get $out) (local.get $vend)))))
              (else
                (local.set $va (v128.load32_splat (local.get $a)))
                (if (local.get $sb)
                  (then
                    (loop $brow
                      (v128.store (local.get $out) (f32x4.mul (local.get $va) (v128.load (local.get $b))))
                      (local.set $b (i32.add (local.get $b) (i32.const 16)))
                      (local.set $out (i32.add (local.get $out) (i32.const 16)))
                      (br_if $brow (i32.lt_u (local.get $out) (local.get $vend)))))
                  (else
                    (local.set $va (f32x4.mul (local.get $va) (v128.load32_splat (local.get $b))))
                    (loop $none
                      (v128.store (local.get $out) (local.get $va))
                      (local.set $out (i32.add (local.get $out) (i32.const 16)))
                      (br_if $none (i32.lt_u (local.get $out) (local.get $vend))))))))))))
    ;; the last n mod 4 elements
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.shl (local.get $sa) (i32.const 2))))
        (local.set $b (i32.add (local.get $b) (i32.shl (local.get $sb) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $tail))))

  (func $div (param $a i32) (param $sa i32) (param $b i32) (param $sb i32) (param $out i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $va v128) (local $vb v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (if (i32.lt_u (local.get $out) (local.get $vend))
      (then
        (if (i32.and (local.get $sa) (local.get $sb))
          (then
            (loop $both
              (v128.store (local.get $out) (f32x4.div (v128.load (local.get $a)) (v128.load (local.get $b))))
              (local.set $a (i32.add (local.get $a) (i32.const 16)))
              (local.set $b (i32.add (local.get $b) (i32.const 16)))
              (local.set $out (i32.add (local.get $out) (i32.const 16)))
              (br_if $both (i32.lt_u (local.get $out) (local.get $vend)))))
          (else
            (if (local.get $sa)
              (then
                (local.set $vb (v128.load32_splat (local.get $b)))
                (loop $arow
                  (v128.store (local.get $out) (f32x4.div (v128.load (local.get $a)) (local.get $vb)))
                  (local.set $a (i32.add (local.get $a) (i32.const 16)))
                  (local.set $out (i32.add (local.get $out) (i32.const 16)))
                  (br_if $arow (i32.lt_u (local.get $out) (local.get $vend)))))
              (else
                (local.set $va (v128.load32_splat (local.get $a)))
                (if (local.get $sb)
                  (then
                    (loop $brow
                      (v128.store (local.get $out) (f32x4.div (local.get $va) (v128.load (local.get $b))))
                      (local.set $b (i32.add (local.get $b) (i32.const 16)))
                      (local.set $out (i32.add (local.get $out) (i32.const 16)))
                      (br_if $brow (i32.lt_u (local.get $out) (local.get $vend)))))
                  (else
                    (local.set $va (f32x4.div (local.get $va) (v128.load32_splat (local.get $b))))
                    (loop $none
                      (v128.store (local.get $out) (local.get $va))
                      (local.set $out (i32.add (local.get $out) (i32.const 16)))
                      (br_if $none (i32.lt_u (local.get $out) (local.get $vend))))))))))))
    ;; the last n mod 4 elements
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (f32.div (f32.load (local.get $a)) (f32.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.shl (local.get $sa) (i32.const 2))))
        (local.set $b (i32.add (local.get $b) (i32.shl (local.get $sb) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $tail))))

  ;; op: 0 add, 1 sub, 2 mul, 3 div (anything else does nothing)
  (func (export "binary") (param $op i32) (param $a i32) (param $sa i32) (param $b i32) (param $sb i32) (param $out i32)
      (param $n i32)
    (block $div
      (block $mul
        (block $sub
          (block $add
            (br_table $add $sub $mul $div $div (local.get $op)))
          (call $add (local.get $a) (local.get $sa) (local.get $b) (local.get $sb) (local.get $out) (local.get $n))
          (return))
        (call $sub (local.get $a) (local.get $sa) (local.get $b) (local.get $sb) (local.get $out) (local.get $n))
        (return))
      (call $mul (local.get $a) (local.get $sa) (local.get $b) (local.get $sb) (local.get $out) (local.get $n))
      (return))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then (call $div (local.get $a) (local.get $sa) (local.get $b) (local.get $sb) (local.get $out) (local.get $n)))))

  ;; acc[j] += f64(x[j]), j < n: acc float64 at byte \$acc, x float32 at byte \$x.
;; dst[i·dRow + j] = src[i·sRow + j·sCol] over rows × cols of 4-byte elements (their bits; strides in elements,
;; pointers in bytes): a strided view made contiguous. Rows that are contiguous on both sides are one memory.copy
;; each, a value broadcast along the row a fill; otherwise 8 × 8 tiles, so a transposed source is read a cache line at a time rather than a line per element.
  (func (export "copy32") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32) (param $sRow i32)
      (param $sCol i32) (param $dRow i32)
    (local $i i32) (local $j i32) (local $i0 i32) (local $j0 i32) (local $i1 i32) (local $j1 i32) (local $s i32) (local $d i32)
    ;; a broadcast value along the row (an expanded scalar gradient, a bias column): a fill, four at a time
    (if (i32.eqz (local.get $sCol))
      (then
        (block $fdone
          (loop $frow
            (br_if $fdone (i32.ge_u (local.get $i) (local.get $rows)))
            (local.set $s (i32.load (i32.add (local.get $src) (i32.shl (i32.mul (local.get $i) (local.get $sRow)) (i32.const 2)))))
            (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $i) (local.get $dRow)) (i32.const 2))))
            (local.set $j (i32.const 0))
            (block $vdone
              (loop $vloop
                (br_if $vdone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
                (v128.store (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 2))) (i32x4.splat (local.get $s)))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $vloop)))
            (block $tdone
              (loop $tloop
                (br_if $tdone (i32.ge_u (local.get $j) (local.get $cols)))
                (i32.store (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $tloop)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $frow)))
        (return)))
    (if (i32.eq (local.get $sCol) (i32.const 1))
      (then
        (block $done
          (loop $row
            (br_if $done (i32.ge_u (local.get $i) (local.get $rows)))
            (memory.copy
              (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $i) (local.get $dRow)) (i32.const 2)))
              (i32.add (local.get $src) (i32.shl (i32.mul (local.get $i) (local.get $sRow)) (i32.const 2)))
              (i32.shl (local.get $cols) (i32.const 2)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $row)))
        (return)))
    (block $idone
      (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i0) (local.get $rows)))
        (local.set $i1 (select (i32.add (local.get $i0) (i32.const 8)) (local.get $rows)
          (i32.lt_u (i32.add (local.get $i0) (i32.const 8)) (local.get $rows))))
        (local.set $j0 (i32.const 0))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j0) (local.get $cols)))
            (local.set $j1 (select (i32.add (local.get $j0) (i32.const 8)) (local.get $cols)
              (i32.lt_u (i32.add (local.get $j0) (i32.const 8)) (local.get $cols))))
            (local.set $i (local.get $i0))
            (block $tdone
              (loop $tloop
                (br_if $tdone (i32.ge_u (local.get $i) (local.get $i1)))
                (local.set $s (i32.add (local.get $src)
                  (i32.shl (i32.add (i32.mul (local.get $i) (local.get $sRow)) (i32.mul (local.get $j0) (local.get $sCol))) (i32.const 2))))
                (local.set $d (i32.add (local.get $dst)
                  (i32.shl (i32.add (i32.mul (local.get $i) (local.get $dRow)) (local.get $j0)) (i32.const 2))))
                (local.set $j (local.get $j0))
                (block $edone
                  (loop $eloop
                    (br_if $edone (i32.ge_u (local.get $j) (local.get $j1)))
                    (i32.store (local.get $d) (i32.load (local.get $s)))
                    (local.set $s (i32.add (local.get $s) (i32.shl (local.get $sCol) (i32.const 2))))
                    (local.set $d (i32.add (local.get $d) (i32.const 4)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $eloop)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $tloop)))
            (local.set $j0 (local.get $j1))
            (br $jloop)))
        (local.set $i0 (local.get $i1))
        (br $iloop))))

  (func (export "accumulate") (param $acc i32) (param $x i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $x) (local.get $vend)))
        (local.set $v (v128.load (local.get $x)))
        (v128.store (local.get $acc) (f64x2.add (v128.load (local.get $acc)) (f64x2.promote_low_f32x4 (local.get $v))))
        (v128.store offset=16 (local.get $acc)
          (f64x2.add (v128.load offset=16 (local.get $acc))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
        (br $vloop)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (f64.store (local.get $acc) (f64.add (f64.load (local.get $acc)) (f64.promote_f32 (f32.load (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 8)))
        (br $tail))))

  ;; out[j] = f32(acc[j]), j < n (round to nearest, as a Float32Array store).
  (func (export "narrow") (param $out i32) (param $acc i32) (param $n i32)
    (local $end i32) (local $vend i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $out) (local.get $vend)))
        (v128.store (local.get $out)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (v128.load (local.get $acc)))
            (f32x4.demote_f64x2_zero (v128.load offset=16 (local.get $acc)))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
        (br $vloop)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (f32.demote_f64 (f64.load (local.get $acc))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 8)))
        (br $tail))))
  ;; Σ of n contiguous float32, in float64: each float32 is exact there; two vectors a step into four float64x2
  ;; sums (one chain of dependent adds per vector half was bound by the adds' latency), then the tail.
  (func $sum (export "sum") (param $x i32) (param $n i32) (result f64)
    (local $end i32) (local $vend i32) (local $v v128) (local $w v128) (local $a0 v128) (local $a1 v128) (local $a2 v128)
    (local $a3 v128) (local $s f64)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $x) (local.get $vend)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $w (v128.load offset=16 (local.get $x)))
        (local.set $a0 (f64x2.add (local.get $a0) (f64x2.promote_low_f32x4 (local.get $v))))
        (local.set $a1 (f64x2.add (local.get $a1)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
        (local.set $a2 (f64x2.add (local.get $a2) (f64x2.promote_low_f32x4 (local.get $w))))
        (local.set $a3 (f64x2.add (local.get $a3)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w)))))
        (local.set $x (i32.add (local.get $x) (i32.const 32)))
        (br $vloop)))
    (local.set $a0 (f64x2.add (f64x2.add (local.get $a0) (local.get $a1)) (f64x2.add (local.get $a2) (local.get $a3))))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0))))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $tail)))
    (local.get $s))

  ;; dst (a float64) = sum(x, n): one chunk of a long sum split over threads (kernels/reduce.ts)
  (func (export "sumTo") (param $x i32) (param $n i32) (param $dst i32)
    (f64.store (local.get $dst) (call $sum (local.get $x) (local.get $n))))

  ;; AdamW over n float32 parameters, as kernels/adamw.ts (float64 throughout; m and v are stored rounded, the update
  ;; uses them unrounded):  m' = b1·m + c1·g;  v' = b2·v + (c2·g)·g;  p' = p·decay − (step·m') / (√v'/bc2 + eps)
  (func (export "adamw") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
      (param $b1 f64) (param $c1 f64) (param $b2 f64) (param $c2 f64) (param $decay f64) (param $step f64)
      (param $bc2 f64) (param $eps f64)
    (local $i i32) (local $vn i32) (local $h i32) (local $gv v128) (local $mv v128) (local $vv v128) (local $pv v128)
    (local $lo v128) (local $hi v128) (local $k v128)
    (local.set $vn (i32.and (local.get $n) (i32.const -4)))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $i) (local.get $vn)))
        (local.set $h (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $h))))
        (local.set $mv (v128.load (i32.add (local.get $m) (local.get $h))))
        (local.set $vv (v128.load (i32.add (local.get $v) (local.get $h))))
        (local.set $pv (v128.load (i32.add (local.get $p) (local.get $h))))
        ;; lanes 0, 1 then 2, 3: each call returns the updated p and writes m, v through the scratch locals
        (call $adamw2 (f64x2.promote_low_f32x4 (local.get $gv)) (f64x2.promote_low_f32x4 (local.get $mv))
          (f64x2.promote_low_f32x4 (local.get $vv)) (f64x2.promote_low_f32x4 (local.get $pv))
          (local.get $b1) (local.get $c1) (local.get $b2) (local.get $c2) (local.get $decay) (local.get $step) (local.get $bc2) (local.get $eps))
        (local.set $lo (global.get $outP))
        (local.set $k (global.get $outM))
        (local.set $mv (global.get $outV)) ;; reuse: m of lanes 0,1 in $k, v in $mv
        (call $adamw2
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $gv) (local.get $gv)))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
            (v128.load (i32.add (local.get $m) (local.get $h))) (v128.load (i32.add (local.get $m) (local.get $h)))))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vv) (local.get $vv)))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $pv) (local.get $pv)))
          (local.get $b1) (local.get $c1) (local.get $b2) (local.get $c2) (local.get $decay) (local.get $step) (local.get $bc2) (local.get $eps))
        (v128.store (i32.add (local.get $p) (local.get $h))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (global.get $outP))))
        (v128.store (i32.add (local.get $m) (local.get $h))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $k)) (f32x4.demote_f64x2_zero (global.get $outM))))
        (v128.store (i32.add (local.get $v) (local.get $h))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $mv)) (f32x4.demote_f64x2_zero (global.get $outV))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vloop)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $h (i32.shl (local.get $i) (i32.const 2)))
        (call $adamw2
          (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $g) (local.get $h)))))
          (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $m) (local.get $h)))))
          (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $v) (local.get $h)))))
          (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $p) (local.get $h)))))
          (local.get $b1) (local.get $c1) (local.get $b2) (local.get $c2) (local.get $decay) (local.get $step) (local.get $bc2) (local.get $eps))
        (f32.store (i32.add (local.get $p) (local.get $h)) (f32.demote_f64 (f64x2.extract_lane 0 (global.get $outP))))
        (f32.store (i32.add (local.get $m) (local.get $h)) (f32.demote_f64 (f64x2.extract_lane 0 (global.get $outM))))
        (f32.store (i32.add (local.get $v) (local.get $h)) (f32.demote_f64 (f64x2.extract_lane 0 (global.get $outV))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  (global $outP (mut v128) (v128.const i64x2 0 0))
  (global $outM (mut v128) (v128.const i64x2 0 0))
  (global $outV (mut v128) (v128.const i64x2 0 0))

  ;; Two lanes of the update; results in the globals outP, outM, outV (float64).
  (func $adamw2 (param $g v128) (param $m v128) (param $v v128) (param $p v128)
      (param $b1 f64) (param $c1 f64) (param $b2 f64) (param $c2 f64) (param $decay f64) (param $step f64)
      (param $bc2 f64) (param $eps f64)
    (local $mi v128) (local $vi v128)
    (local.set $mi (f64x2.add (f64x2.mul (f64x2.splat (local.get $b1)) (local.get $m)) (f64x2.mul (f64x2.splat (local.get $c1)) (local.get $g))))
    (local.set $vi (f64x2.add (f64x2.mul (f64x2.splat (local.get $b2)) (local.get $v))
      (f64x2.mul (f64x2.mul (f64x2.splat (local.get $c2)) (local.get $g)) (local.get $g))))
    (global.set $outM (local.get $mi))
    (global.set $outV (local.get $vi))
    (global.set $outP
      (f64x2.sub (f64x2.mul (local.get $p) (f64x2.splat (local.get $decay)))
        (f64x2.div (f64x2.mul (f64x2.splat (local.get $step)) (local.get $mi))
          (f64x2.add (f64x2.div (f64x2.sqrt (local.get $vi)) (f64x2.splat (local.get $bc2))) (f64x2.splat (local.get $eps)))))))

  ;; SIFT's weight-gradient components for one chunk of c rows (kernels/sampledMatmul.ts): for j < k,
  ;; acc[j] += Σ_i a[r_j·c + i]·g[col_j·c + i], the float32 operands laid out column by column from byte aBase and
  ;; gBase, r and col int32 arrays, acc float64. Products of float32 are exact in float64; even and odd i are summed
  ;; in two lanes and the lanes added last, as the TypeScript kernel does — the same bits.
  (func (export "sampledDots") (param $aBase i32) (param $gBase i32) (param $r i32) (param $col i32) (param $acc i32)
      (param $k i32) (param $c i32)
    (local $j i32) (local $a i32) (local $g i32) (local $i i32) (local $vc i32) (local $s v128) (local $x v128) (local $y v128)
    (local $s0 f64)
    (local.set $vc (i32.and (local.get $c) (i32.const -2)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $j) (local.get $k)))
        (local.set $a (i32.add (local.get $aBase)
          (i32.shl (i32.mul (i32.load (i32.add (local.get $r) (i32.shl (local.get $j) (i32.const 2)))) (local.get $c)) (i32.const 2))))
        (local.set $g (i32.add (local.get $gBase)
          (i32.shl (i32.mul (i32.load (i32.add (local.get $col) (i32.shl (local.get $j) (i32.const 2)))) (local.get $c)) (i32.const 2))))
        (local.set $s (f64x2.splat (f64.const 0)))
        (local.set $i (i32.const 0))
        ;; four at a time: lanes (0, 1) then (2, 3) into the even / odd lanes of $s
        (block $vdone
          (loop $v4
            (br_if $vdone (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $vc)))
            (local.set $x (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $y (v128.load (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $s (f64x2.add (local.get $s)
              (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (f64x2.promote_low_f32x4 (local.get $y)))))
            (local.set $s (f64x2.add (local.get $s)
              (f64x2.mul
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $y) (local.get $y))))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $v4)))
        ;; a remaining pair
        (if (i32.lt_u (local.get $i) (local.get $vc))
          (then
            (local.set $s (f64x2.add (local.get $s)
              (f64x2.mul
                (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))))
                (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 2))))))))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))))
        (local.set $s0 (f64x2.extract_lane 0 (local.get $s)))
        ;; an odd last element goes to the even sum
        (if (i32.lt_u (local.get $i) (local.get $c))
          (then
            (local.set $s0 (f64.add (local.get $s0)
              (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))))
                (f64.promote_f32 (f32.load (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 2))))))))))
        (f64.store (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3)))
          (f64.add (f64.load (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
            (f64.add (local.get $s0) (f64x2.extract_lane 1 (local.get $s)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $each))))
)
