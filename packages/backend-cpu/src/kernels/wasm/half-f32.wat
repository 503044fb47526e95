;; float16 / bfloat16 <-> float32 over contiguous runs of the CPU backend's shared heap, WebAssembly SIMD (128-bit).
;; Pointers are byte offsets; n counts elements. Each function gives the bits of @siftjs/tensor's src/half.ts:
;;
;; - widenBf16: a bfloat16 is the top half of a float32: zero-extend and shift left 16.
;; - narrowBf16: round to nearest even by adding 0x7FFF plus the lowest kept bit, then take the top half; a NaN keeps
;;   its sign and the top of its payload with the quiet bit set.
;; - widenF16: the exponent and mantissa moved into float32's places and multiplied by 2^112 (the bias difference,
;;   127 − 15): exact for normals and subnormals alike (WebAssembly keeps subnormals); ∞ and NaN by their bits.
;; - narrowF16: the float32 is scaled so that its bits below float16's precision fall off in one float32 addition,
;;   which rounds to nearest even (the method of Maratyszcza's FP16 library: |x|·2^112·2^-110 plus a power of two
;;   that aligns the rounding point; subnormal results included, overflow to ∞ by the same addition).
(module
  (import "env" "memory" (memory 1 65536 shared))

  (func (export "widenBf16") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $h v128)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $dst) (local.get $vend)))
        (local.set $h (v128.load (local.get $src)))
        (v128.store (local.get $dst) (i32x4.shl (i32x4.extend_low_i16x8_u (local.get $h)) (i32.const 16)))
        (v128.store offset=16 (local.get $dst) (i32x4.shl (i32x4.extend_high_i16x8_u (local.get $h)) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $vloop)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store (local.get $dst) (i32.shl (i32.load16_u (local.get $src)) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 2)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $tail))))

  ;; four float32 bit patterns -> four bfloat16 patterns in the low 16 bits of each lane
  (func $bf16x4 (param $u v128) (result v128)
    (local $nan v128) (local $rounded v128)
    (local.set $nan (i32x4.gt_u (v128.and (local.get $u) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
                                (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000)))
    (local.set $rounded
      (i32x4.shr_u
        (i32x4.add (i32x4.add (local.get $u) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff))
                   (v128.and (i32x4.shr_u (local.get $u) (i32.const 16)) (v128.const i32x4 1 1 1 1)))
        (i32.const 16)))
    (v128.bitselect
      (v128.or (i32x4.shr_u (local.get $u) (i32.const 16)) (v128.const i32x4 0x40 0x40 0x40 0x40))
      (local.get $rounded)
      (local.get $nan)))

  (func (export "narrowBf16") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $vend i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 1))))
    (local.set $vend (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 1))))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $dst) (local.get $vend)))
        ;; every lane is in [0, 0xffff], so the saturating narrow is exact
        (v128.store (local.get $dst)
          (i16x8.narrow_i32x4_u (call $bf16x4 (v128.load (local.get $src))) (call $bf16x4 (v128.load offset=16 (local.get $src)))))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $vloop)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store16 (local.get $dst) (i32x4.extract_lane 0 (call $bf16x4 (v128.load32_zero (local.get $src)))))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 2)))
        (br $tail))))

  ;; four float16 patterns (low 16 bits of each lane, zero-extended) -> four float32 patterns
  (func $f16x4 (param $h v128) (result v128)
    (local $em v128) (local $finite v128) (local $special v128)
    (local.set $em (v128.and (local.get $h) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)))
    (local.set $finite (f32x4.mul (i32x4.shl (local.get $em) (i32.const 13)) (v128.const f32x4 0x1p+112 0x1p+112 0x1p+112 0x1p+112)))
    (local.set $special (v128.or (i32x4.shl (local.get $em) (i32.const 13)) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000)))
    (v128.or
      (i32x4.shl (v128.and (local.get $h) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))
      (v128.bitselect (local.get $special) (local.get $finite)
        (i32x4.ge_u (local.get $em) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)))))

  (func (export "widenF16") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $h v128)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $dst) (local.get $vend)))
        (local.set $h (v128.load (local.get $src)))
        (v128.store (local.get $dst) (call $f16x4 (i32x4.extend_low_i16x8_u (local.get $h))))
        (v128.store offset=16 (local.get $dst) (call $f16x4 (i32x4.extend_high_i16x8_u (local.get $h))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $vloop)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store (local.get $dst) (i32x4.extract_lane 0 (call $f16x4 (i32x4.splat (i32.load16_u (local.get $src))))))
        (local.set $src (i32.add (local.get $src) (i32.const 2)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $tail))))

  ;; four float32 bit patterns -> four float16 patterns in the low 16 bits of each lane
  (func $f32x4toF16 (param $w v128) (result v128)
    (local $shl1 v128) (local $bias v128) (local $base v128) (local $bits v128) (local $nonsign v128) (local $nan v128)
    ;; |x|·2^112·2^-110: values past float16's range become ∞ here, tiny ones keep their place
    (local.set $base
      (f32x4.mul (f32x4.mul (f32x4.abs (local.get $w)) (v128.const f32x4 0x1p+112 0x1p+112 0x1p+112 0x1p+112))
                 (v128.const f32x4 0x1p-110 0x1p-110 0x1p-110 0x1p-110)))
    (local.set $shl1 (i32x4.add (local.get $w) (local.get $w)))
    ;; the power of two whose addition drops exactly the bits below float16's last place (at least 2^-14's)
    (local.set $bias (i32x4.max_u (v128.and (local.get $shl1) (v128.const i32x4 0xff000000 0xff000000 0xff000000 0xff000000))
                                  (v128.const i32x4 0x71000000 0x71000000 0x71000000 0x71000000)))
    (local.set $bits
      (f32x4.add (i32x4.add (i32x4.shr_u (local.get $bias) (i32.const 1)) (v128.const i32x4 0x07800000 0x07800000 0x07800000 0x07800000))
                 (local.get $base)))
    (local.set $nonsign
      (i32x4.add (v128.and (i32x4.shr_u (local.get $bits) (i32.const 13)) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00))
                 (v128.and (local.get $bits) (v128.const i32x4 0x0fff 0x0fff 0x0fff 0x0fff))))
    (local.set $nan (i32x4.gt_u (local.get $shl1) (v128.const i32x4 0xff000000 0xff000000 0xff000000 0xff000000)))
    (v128.or
      (v128.and (i32x4.shr_u (local.get $w) (i32.const 16)) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000))
      (v128.bitselect
        ;; NaN: quiet, with the top 10 bits of its payload
        (v128.or (v128.const i32x4 0x7e00 0x7e00 0x7e00 0x7e00)
                 (v128.and (i32x4.shr_u (local.get $w) (i32.const 13)) (v128.const i32x4 0x3ff 0x3ff 0x3ff 0x3ff)))
        (local.get $nonsign)
        (local.get $nan))))

  (func (export "narrowF16") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $vend i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 1))))
    (local.set $vend (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 1))))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $dst) (local.get $vend)))
        (v128.store (local.get $dst)
          (i16x8.narrow_i32x4_u (call $f32x4toF16 (v128.load (local.get $src))) (call $f32x4toF16 (v128.load offset=16 (local.get $src)))))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $vloop)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store16 (local.get $dst) (i32x4.extract_lane 0 (call $f32x4toF16 (v128.load32_zero (local.get $src)))))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 2)))
        (br $tail))))
)
