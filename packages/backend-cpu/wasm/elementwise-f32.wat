;; Elementwise float32 kernels, WebAssembly SIMD (128-bit), over the CPU backend's shared heap. Pointers are byte
;; offsets; strides are in elements.
;;
;; - binary: out[i] = a[i·sa] op b[i·sb] for add, sub, mul, div with sa, sb ∈ {0, 1} (a broadcast scalar or a
;;   contiguous row). f32 arithmetic rounds exactly as the TypeScript kernels' float64 arithmetic stored to a
;;   Float32Array (for + − × ÷ the double rounding is innocuous), so both paths give the same bits.
;; - accumulate / narrow: the sum over outer (strided) axes in float64, as the TypeScript reduce does: acc[j] +=
;;   x[j] over contiguous rows, in the same order, then out[j] = f32(acc[j]).
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
        (br $tail)))))
