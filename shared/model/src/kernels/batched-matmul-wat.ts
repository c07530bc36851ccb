/**
 * The batched matrix product as a WebAssembly SIMD kernel, in WebAssembly text (assembled by
 * batched-matmul-kernel.ts).
 *
 * TF.js's WASM backend runs a product with batch > 1 outside XNNPACK, at about 2 GFLOP/s: the
 * attention's [128, 50, 32] x [128, 32, 50] takes about 10 ms, and the 16 such products are the
 * largest part of a pretraining step (`npm run bench:kernels` times both against this kernel). This kernel computes 4 x 8 output blocks with eight f32x4
 * accumulators (each of 4 rows' value broadcast, times an 8-wide slice of the right operand,
 * summed over k), then at most one 4 x 4 block, with scalar loops for the rows and columns past
 * the last whole block. Every element is summed over k in order, so all paths round alike.
 *
 * `bmm(a, b, c, batch, M, K, N)`: for each of `batch` matrices, c[M, N] = a[M, K] . b[K, N]; all
 * three row-major float32 at byte offsets into the exported memory, matrices stored back to back.
 */
export const BATCHED_MATMUL_WAT = `
(module
  (memory (export "memory") 1)
  ;; c[i0..i1, j0..j1] = a[i0..i1, :] . b[:, j0..j1] for one matrix, scalar.
  (func $scalar (param $a i32) (param $b i32) (param $c i32) (param $K i32) (param $N i32)
                (param $i0 i32) (param $i1 i32) (param $j0 i32) (param $j1 i32)
    (local $i i32) (local $j i32) (local $k i32) (local $s f32)
    (local.set $i (local.get $i0))
    (block $iend (loop $iloop
      (br_if $iend (i32.ge_u (local.get $i) (local.get $i1)))
      (local.set $j (local.get $j0))
      (block $jend (loop $jloop
        (br_if $jend (i32.ge_u (local.get $j) (local.get $j1)))
        (local.set $s (f32.const 0))
        (local.set $k (i32.const 0))
        (block $kend (loop $kloop
          (br_if $kend (i32.ge_u (local.get $k) (local.get $K)))
          (local.set $s (f32.add (local.get $s)
            (f32.mul
              (f32.load (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $K)) (local.get $k)) (i32.const 2))))
              (f32.load (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $N)) (local.get $j)) (i32.const 2)))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $kloop)))
        (f32.store (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2))) (local.get $s))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jloop)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $iloop))))

  (func (export "bmm") (param $a i32) (param $b i32) (param $c i32) (param $batch i32) (param $M i32) (param $K i32) (param $N i32)
    (local $n i32) (local $i i32) (local $j i32) (local $k i32)
    (local $M4 i32) (local $N4 i32) (local $rowK i32) (local $ap i32) (local $bp i32) (local $cp i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128) (local $acc4 v128) (local $acc5 v128) (local $acc6 v128) (local $acc7 v128)
    (local $bv v128) (local $bw v128) (local $s0 v128)
    (local.set $M4 (i32.and (local.get $M) (i32.const -4)))
    (local.set $N4 (i32.and (local.get $N) (i32.const -4)))
    (local.set $rowK (i32.shl (local.get $K) (i32.const 2)))
    (block $nend (loop $nloop
      (br_if $nend (i32.ge_u (local.get $n) (local.get $batch)))
      (local.set $i (i32.const 0))
      (block $iend (loop $iloop
        (br_if $iend (i32.ge_u (local.get $i) (local.get $M4)))
        (local.set $j (i32.const 0))
        (block $j8end (loop $j8loop
          (br_if $j8end (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $N)))
          (local.set $acc0 (v128.const i32x4 0 0 0 0))
          (local.set $acc1 (v128.const i32x4 0 0 0 0))
          (local.set $acc2 (v128.const i32x4 0 0 0 0))
          (local.set $acc3 (v128.const i32x4 0 0 0 0))
          (local.set $acc4 (v128.const i32x4 0 0 0 0))
          (local.set $acc5 (v128.const i32x4 0 0 0 0))
          (local.set $acc6 (v128.const i32x4 0 0 0 0))
          (local.set $acc7 (v128.const i32x4 0 0 0 0))
          (local.set $ap (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $K)) (i32.const 2))))
          (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $k (i32.const 0))
          (block $k8end (loop $k8loop
            (br_if $k8end (i32.ge_u (local.get $k) (local.get $K)))
            (local.set $bv (v128.load (local.get $bp)))
            (local.set $bw (v128.load offset=16 (local.get $bp)))
            (local.set $s0 (f32x4.splat (f32.load (local.get $ap))))
            (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $s0) (local.get $bv))))
            (local.set $acc4 (f32x4.add (local.get $acc4) (f32x4.mul (local.get $s0) (local.get $bw))))
            (local.set $s0 (f32x4.splat (f32.load (i32.add (local.get $ap) (local.get $rowK)))))
            (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $s0) (local.get $bv))))
            (local.set $acc5 (f32x4.add (local.get $acc5) (f32x4.mul (local.get $s0) (local.get $bw))))
            (local.set $s0 (f32x4.splat (f32.load (i32.add (local.get $ap) (i32.shl (local.get $rowK) (i32.const 1))))))
            (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $s0) (local.get $bv))))
            (local.set $acc6 (f32x4.add (local.get $acc6) (f32x4.mul (local.get $s0) (local.get $bw))))
            (local.set $s0 (f32x4.splat (f32.load (i32.add (local.get $ap) (i32.mul (local.get $rowK) (i32.const 3))))))
            (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $s0) (local.get $bv))))
            (local.set $acc7 (f32x4.add (local.get $acc7) (f32x4.mul (local.get $s0) (local.get $bw))))
            (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
            (local.set $bp (i32.add (local.get $bp) (i32.shl (local.get $N) (i32.const 2))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $k8loop)))
          (local.set $cp (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2))))
          (v128.store (local.get $cp) (local.get $acc0))
          (v128.store offset=16 (local.get $cp) (local.get $acc4))
          (local.set $cp (i32.add (local.get $cp) (i32.shl (local.get $N) (i32.const 2))))
          (v128.store (local.get $cp) (local.get $acc1))
          (v128.store offset=16 (local.get $cp) (local.get $acc5))
          (local.set $cp (i32.add (local.get $cp) (i32.shl (local.get $N) (i32.const 2))))
          (v128.store (local.get $cp) (local.get $acc2))
          (v128.store offset=16 (local.get $cp) (local.get $acc6))
          (local.set $cp (i32.add (local.get $cp) (i32.shl (local.get $N) (i32.const 2))))
          (v128.store (local.get $cp) (local.get $acc3))
          (v128.store offset=16 (local.get $cp) (local.get $acc7))
          (local.set $j (i32.add (local.get $j) (i32.const 8)))
          (br $j8loop)))
        ;; At most one 4-wide block is left before the scalar tail.
        (block $jend (loop $jloop
          (br_if $jend (i32.ge_u (local.get $j) (local.get $N4)))
          (local.set $acc0 (v128.const i32x4 0 0 0 0))
          (local.set $acc1 (v128.const i32x4 0 0 0 0))
          (local.set $acc2 (v128.const i32x4 0 0 0 0))
          (local.set $acc3 (v128.const i32x4 0 0 0 0))
          ;; ap walks row i of a along k; bp walks column block j of b down k.
          (local.set $ap (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $K)) (i32.const 2))))
          (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $k (i32.const 0))
          (block $kend (loop $kloop
            (br_if $kend (i32.ge_u (local.get $k) (local.get $K)))
            (local.set $bv (v128.load (local.get $bp)))
            (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (f32x4.splat (f32.load (local.get $ap))) (local.get $bv))))
            (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $ap) (local.get $rowK)))) (local.get $bv))))
            (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $ap) (i32.shl (local.get $rowK) (i32.const 1))))) (local.get $bv))))
            (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $ap) (i32.mul (local.get $rowK) (i32.const 3))))) (local.get $bv))))
            (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
            (local.set $bp (i32.add (local.get $bp) (i32.shl (local.get $N) (i32.const 2))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kloop)))
          (local.set $cp (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2))))
          (v128.store (local.get $cp) (local.get $acc0))
          (local.set $cp (i32.add (local.get $cp) (i32.shl (local.get $N) (i32.const 2))))
          (v128.store (local.get $cp) (local.get $acc1))
          (local.set $cp (i32.add (local.get $cp) (i32.shl (local.get $N) (i32.const 2))))
          (v128.store (local.get $cp) (local.get $acc2))
          (local.set $cp (i32.add (local.get $cp) (i32.shl (local.get $N) (i32.const 2))))
          (v128.store (local.get $cp) (local.get $acc3))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $jloop)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $iloop)))
      ;; Tails: the columns past N4 for the blocked rows, then the rows past M4.
      (call $scalar (local.get $a) (local.get $b) (local.get $c) (local.get $K) (local.get $N) (i32.const 0) (local.get $M4) (local.get $N4) (local.get $N))
      (call $scalar (local.get $a) (local.get $b) (local.get $c) (local.get $K) (local.get $N) (local.get $M4) (local.get $M) (i32.const 0) (local.get $N))
      (local.set $a (i32.add (local.get $a) (i32.shl (i32.mul (local.get $M) (local.get $K)) (i32.const 2))))
      (local.set $b (i32.add (local.get $b) (i32.shl (i32.mul (local.get $K) (local.get $N)) (i32.const 2))))
      (local.set $c (i32.add (local.get $c) (i32.shl (i32.mul (local.get $M) (local.get $N)) (i32.const 2))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nloop))))
)
`;
