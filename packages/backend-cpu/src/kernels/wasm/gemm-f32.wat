;; The float32 GEMM, WebAssembly SIMD (128-bit): packing, the macro-kernel loops and the 4×8 micro-kernel.
;; Pointers are byte offsets into the CPU backend's shared heap; strides are in elements.
;;
;; Packed panels (written by `pack`):
;;   A: 4-row panels, kc steps of 4 floats (rows 0..3 of column p), 16 bytes per step
;;   B: 8-column panels, kc steps of 8 floats (columns 0..7 of row p), 32 bytes per step
;; Partial panels are padded with zeros.
;;
;; Measured on the 2-core AMD EPYC (Zen 3) this was tuned on, V8 compiling with AVX but no FMA (f32x4 mul + add):
;; - The 4×8 tile (8 accumulators, 2 B vectors, 1 broadcast, 1 product: 12 of the 15 xmm registers V8 allocates)
;;   is the largest that does not spill: TurboFan schedules all loads of a basic block first, so 5×8, 6×8, 4×12
;;   or a plain 2× unroll of k run out of registers and fall to 19–25 GFLOP/s.
;; - The k loop is unrolled 2× with an exit test between the halves: the test ends the basic block, so the loads
;;   of the second step are not hoisted, and the loop's stack check, index zero-extensions and branch are paid
;;   once per two steps. 31.6 -> 38 GFLOP/s for the kernel alone on one core (the mul+add peak is ~39 at 2.45 GHz).
;; - Loads of A are v128.load32_splat (one vbroadcastss each).
;;
;; Every element of C is summed in the same order (k ascending within a call of `block`, one call per KC block)
;; wherever its tile lies, so results do not depend on how the product is split between threads.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; C[4×8] (+)= A·B over one packed panel pair: add = 0 stores the sums, 1 adds them to C (row stride ldc).
  (func $tile (param $kc i32) (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $add i32)
    (local $end i32) (local $row i32)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $kc) (i32.const 4))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $step
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $x (v128.load32_splat offset=0 (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $x (v128.load32_splat offset=0 (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br_if $step (i32.lt_u (local.get $a) (local.get $end)))))
    (local.set $row (i32.shl (local.get $ldc) (i32.const 2)))
    (if (local.get $add)
      (then
        (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c00)))
        (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
        (local.set $c (i32.add (local.get $c) (local.get $row)))
        (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c10)))
        (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c11)))
        (local.set $c (i32.add (local.get $c) (local.get $row)))
        (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c20)))
        (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c21)))
        (local.set $c (i32.add (local.get $c) (local.get $row)))
        (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c30)))
        (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c31))))
      (else
        (v128.store (local.get $c) (local.get $c00))
        (v128.store offset=16 (local.get $c) (local.get $c01))
        (local.set $c (i32.add (local.get $c) (local.get $row)))
        (v128.store (local.get $c) (local.get $c10))
        (v128.store offset=16 (local.get $c) (local.get $c11))
        (local.set $c (i32.add (local.get $c) (local.get $row)))
        (v128.store (local.get $c) (local.get $c20))
        (v128.store offset=16 (local.get $c) (local.get $c21))
        (local.set $c (i32.add (local.get $c) (local.get $row)))
        (v128.store (local.get $c) (local.get $c30))
        (v128.store offset=16 (local.get $c) (local.get $c31)))))

  ;; C[mc×nc] (+)= packed A block [mc×kc] · packed B panel [kc×nc] (BLIS order: each 8-column panel of B stays in L1
  ;; while the 4-row panels of A stream past it from L2). add: 0 overwrites C, 1 adds to it. Partial tiles go
  ;; through the 4×8 scratch tile at $tmp (128 bytes), then their valid part is written to C.
  (func (export "block") (param $mc i32) (param $nc i32) (param $kc i32) (param $pa i32) (param $pb i32)
      (param $c i32) (param $ldc i32) (param $add i32) (param $tmp i32)
    (local $jr i32) (local $ir i32) (local $rows i32) (local $cols i32) (local $bp i32) (local $cp i32)
    (local $r i32) (local $j i32) (local $d i32) (local $v f32) (local $panel i32)
    ;; bytes of one packed panel step times kc: A panels advance 16·kc, B panels 32·kc
    (local.set $panel (i32.shl (local.get $kc) (i32.const 4)))
    (block $jdone
      (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $jr) (local.get $nc)))
        (local.set $cols (i32.sub (local.get $nc) (local.get $jr)))
        (if (i32.gt_u (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
        (local.set $bp (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $jr) (local.get $kc)) (i32.const 2))))
        (local.set $ir (i32.const 0))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $ir) (local.get $mc)))
            (local.set $rows (i32.sub (local.get $mc) (local.get $ir)))
            (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
            (local.set $cp (i32.add (local.get $c)
              (i32.shl (i32.add (i32.mul (local.get $ir) (local.get $ldc)) (local.get $jr)) (i32.const 2))))
            (if (i32.and (i32.eq (local.get $rows) (i32.const 4)) (i32.eq (local.get $cols) (i32.const 8)))
              (then
                (call $tile (local.get $kc) (local.get $pa) (local.get $bp) (local.get $cp) (local.get $ldc) (local.get $add)))
              (else
                (call $tile (local.get $kc) (local.get $pa) (local.get $bp) (local.get $tmp) (i32.const 8) (i32.const 0))
                (local.set $r (i32.const 0))
                (loop $rloop
                  (local.set $j (i32.const 0))
                  (loop $cloop
                    (local.set $d (i32.add (local.get $cp)
                      (i32.shl (i32.add (i32.mul (local.get $r) (local.get $ldc)) (local.get $j)) (i32.const 2))))
                    (local.set $v (f32.load (i32.add (local.get $tmp)
                      (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 3)) (local.get $j)) (i32.const 2)))))
                    (if (local.get $add) (then (local.set $v (f32.add (f32.load (local.get $d)) (local.get $v)))))
                    (f32.store (local.get $d) (local.get $v))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br_if $cloop (i32.lt_u (local.get $j) (local.get $cols))))
                  (local.set $r (i32.add (local.get $r) (i32.const 1)))
                  (br_if $rloop (i32.lt_u (local.get $r) (local.get $rows))))))
            (local.set $pa (i32.add (local.get $pa) (local.get $panel)))
            (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
            (br $iloop)))
        ;; back to the first A panel
        (local.set $pa (i32.sub (local.get $pa) (i32.mul (local.get $panel) (i32.shr_u (i32.add (local.get $mc) (i32.const 3)) (i32.const 2)))))
        (local.set $jr (i32.add (local.get $jr) (i32.const 8)))
        (br $jloop))))

  ;; Packs `count` rows (A: width 4) or columns (B: width 8) of a strided float32 matrix into panels `width` wide:
  ;; element (q, p) is src[q·across + p·along], p < kc; panel q0 holds kc steps of `width` floats (zeros past
  ;; `count`). Fast paths: across = 1 (each step is `width` contiguous floats: vector copies) and along = 1 (each
  ;; row is contiguous in p: 4×4 transposes in registers); anything else element by element.
  (func (export "pack") (param $src i32) (param $across i32) (param $along i32) (param $count i32) (param $kc i32)
      (param $width i32) (param $dst i32)
    (local $q0 i32) (local $valid i32) (local $base i32) (local $p i32) (local $i i32) (local $g i32) (local $s i32)
    (local $ab i32) (local $lb i32) (local $wb i32) (local $d i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128)
    (local $t2 v128) (local $t3 v128)
    (local.set $ab (i32.shl (local.get $across) (i32.const 2)))
    (local.set $lb (i32.shl (local.get $along) (i32.const 2)))
    (local.set $wb (i32.shl (local.get $width) (i32.const 2)))
    (block $qdone
      (loop $qloop
        (br_if $qdone (i32.ge_u (local.get $q0) (local.get $count)))
        (local.set $valid (i32.sub (local.get $count) (local.get $q0)))
        (if (i32.gt_u (local.get $valid) (local.get $width)) (then (local.set $valid (local.get $width))))
        (local.set $base (i32.add (local.get $src) (i32.mul (local.get $q0) (local.get $ab))))
        (local.set $p (i32.const 0))
        (if (i32.and (i32.eq (local.get $valid) (local.get $width)) (i32.eq (local.get $across) (i32.const 1)))
          (then
            ;; each step: `width` (4 or 8) contiguous floats
            (block $cdone
              (loop $cloop
                (br_if $cdone (i32.ge_u (local.get $p) (local.get $kc)))
                (v128.store (local.get $dst) (v128.load (local.get $base)))
                (if (i32.eq (local.get $width) (i32.const 8))
                  (then (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $base)))))
                (local.set $base (i32.add (local.get $base) (local.get $lb)))
                (local.set $dst (i32.add (local.get $dst) (local.get $wb)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $cloop))))
          (else
            (if (i32.and (i32.eq (local.get $valid) (local.get $width)) (i32.eq (local.get $along) (i32.const 1)))
              (then
                ;; rows contiguous in p: 4×4 blocks transposed in registers
                (block $tdone
                  (loop $tloop
                    (br_if $tdone (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $kc)))
                    (local.set $g (i32.const 0))
                    (loop $gloop
                      (local.set $s (i32.add (i32.add (local.get $base) (i32.mul (local.get $g) (local.get $ab)))
                        (i32.shl (local.get $p) (i32.const 2))))
                      (local.set $r0 (v128.load (local.get $s)))
                      (local.set $r1 (v128.load (i32.add (local.get $s) (local.get $ab))))
                      (local.set $r2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ab) (i32.const 1)))))
                      (local.set $r3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ab) (i32.const 3)))))
                      (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
                      (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
                      (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
                      (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
                      (local.set $d (i32.add (i32.add (local.get $dst) (i32.mul (local.get $p) (local.get $wb)))
                        (i32.shl (local.get $g) (i32.const 2))))
                      (v128.store (local.get $d)
                        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
                      (local.set $d (i32.add (local.get $d) (local.get $wb)))
                      (v128.store (local.get $d)
                        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
                      (local.set $d (i32.add (local.get $d) (local.get $wb)))
                      (v128.store (local.get $d)
                        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)))
                      (local.set $d (i32.add (local.get $d) (local.get $wb)))
                      (v128.store (local.get $d)
                        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)))
                      (local.set $g (i32.add (local.get $g) (i32.const 4)))
                      (br_if $gloop (i32.lt_u (local.get $g) (local.get $width))))
                    (local.set $p (i32.add (local.get $p) (i32.const 4)))
                    (br $tloop)))))
            ;; the rest (all of it off the fast paths), element by element
            (block $sdone
              (loop $sloop
                (br_if $sdone (i32.ge_u (local.get $p) (local.get $kc)))
                (local.set $i (i32.const 0))
                (loop $iloop
                  (f32.store
                    (i32.add (i32.add (local.get $dst) (i32.mul (local.get $p) (local.get $wb))) (i32.shl (local.get $i) (i32.const 2)))
                    (if (result f32) (i32.lt_u (local.get $i) (local.get $valid))
                      (then (f32.load (i32.add (i32.add (local.get $base) (i32.mul (local.get $i) (local.get $ab)))
                        (i32.mul (local.get $p) (local.get $lb)))))
                      (else (f32.const 0))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $iloop (i32.lt_u (local.get $i) (local.get $width))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $sloop)))
            (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $kc) (local.get $wb))))))
        (local.set $q0 (i32.add (local.get $q0) (local.get $width)))
        (br $qloop)))))
