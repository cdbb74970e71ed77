package dev.ferrovec.bench

import com.sun.jna.Native
import dev.ferrovec.Engine
import dev.ferrovec.HnswConfig
import dev.ferrovec.Index
import dev.ferrovec.IndexMetric
import dev.ferrovec.Vectors
import java.nio.ByteBuffer
import java.nio.ByteOrder

// Kotlin (JVM) vs Rust: k=10 search call cost and bulk add throughput (issue 5). Not a test.
//
//   make bench-kotlin
//
// The Rust baseline is timed in Rust inside the same library and process, on the same index
// and memory (ferrovec_fast_bench_search / _add in ffi/src/bindings/fast.rs), interleaved
// pass by pass with the Kotlin calls. Workload: see bindings/python/bench/bench.py.

private const val DIMS = 384
private const val SEARCH_ROWS = 10_000
private const val QUERIES = 200
private const val K = 10
private const val ADD_ROWS = 100_000
private const val QUERY_BASE = 1L shl 40
private const val SMALL_ROWS = 16
private const val SMALL_CALLS = 2_000

/** The Rust-side timers (JNA direct mapping). */
private object RustBench {
    init {
        Native.register(RustBench::class.java, "ferrovec")
    }

    @JvmStatic external fun ferrovec_fast_bench_search(id: Long, queries: ByteBuffer, nQueries: Int, dims: Int, k: Int, rounds: Int): Double

    @JvmStatic external fun ferrovec_fast_bench_add(keys: ByteBuffer, vectors: ByteBuffer, n: Int, dims: Int): Double
}

/** Element i: splitmix64's finalizer of i + 1, top 24 bits, in [-1, 1) (as in Rust). */
private fun value(i: Long): Float {
    var z = (i + 1) * -0x61c8864680b583ebL
    z = z xor (z ushr 30)
    z *= -0x40a7b892e31b1a47L
    z = z xor (z ushr 27)
    z *= -0x6b2fb644ecceee15L
    z = z xor (z ushr 31)
    return (z ushr 40).toFloat() / 16_777_216f * 2f - 1f
}

private fun matrix(base: Long, rows: Int): FloatArray = FloatArray(rows * DIMS) { value(base + it) }

private fun median(v: List<Double>) = v.sorted()[v.size / 2]

private fun fastId(index: Index): Long {
    // The layer keeps the id private; the bench reads it the same way the layer got it.
    val field = Index::class.java.getDeclaredField("fastId")
    field.isAccessible = true
    return field.getLong(index)
}

private fun rustSearch(index: Index, queries: ByteBuffer, n: Int, rounds: Int): Double {
    val ns = RustBench.ferrovec_fast_bench_search(fastId(index), queries, n, DIMS, K, rounds)
    check(ns >= 0) { "ferrovec_fast_bench_search failed: $ns" }
    return ns
}

fun main(args: Array<String>) {
    val quick = args.contains("--quick") || System.getProperty("ferrovec.quick") == "true"
    val passes = if (quick) 5 else 15
    Engine.native().use { engine ->
        val rows = matrix(0, SEARCH_ROWS)
        val queries = matrix(QUERY_BASE, QUERIES)
        val queryBuf = Vectors.of(queries)
        val qs = (0 until QUERIES).map { queries.copyOfRange(it * DIMS, (it + 1) * DIMS) }
        val qbufs = qs.map { Vectors.of(it) }

        // Search, 10k HNSW: FloatArray calls, direct-buffer calls, and Rust, interleaved.
        val hnsw = engine.newIndex(DIMS, IndexMetric.COSINE, hnsw = HnswConfig())
        hnsw.addBatch(LongArray(SEARCH_ROWS) { it.toLong() }, rows)
        val (kt, ktBuf, rs) = Triple(ArrayList<Double>(), ArrayList<Double>(), ArrayList<Double>())
        repeat(passes + 1) { pass ->
            var t = System.nanoTime()
            for (q in qs) hnsw.search(q, K)
            val a = (System.nanoTime() - t).toDouble() / QUERIES
            t = System.nanoTime()
            for (q in qbufs) hnsw.search(q, K)
            val b = (System.nanoTime() - t).toDouble() / QUERIES
            val r = rustSearch(hnsw, queryBuf, QUERIES, 1)
            if (pass > 0) { kt += a; ktBuf += b; rs += r } // pass 0 warms up the JIT
        }

        // Search, 16-vector exact index: the call's own cost.
        val small = engine.newIndex(DIMS, IndexMetric.COSINE)
        small.addBatch(LongArray(SMALL_ROWS) { it.toLong() }, rows.copyOfRange(0, SMALL_ROWS * DIMS))
        val q = qs[0]
        val qb = qbufs[0]
        val (sk, skBuf, sr) = Triple(ArrayList<Double>(), ArrayList<Double>(), ArrayList<Double>())
        repeat(passes + 2) { pass ->
            var t = System.nanoTime()
            for (i in 0 until SMALL_CALLS) small.search(q, K)
            val a = (System.nanoTime() - t).toDouble() / SMALL_CALLS
            t = System.nanoTime()
            for (i in 0 until SMALL_CALLS) small.search(qb, K)
            val b = (System.nanoTime() - t).toDouble() / SMALL_CALLS
            val r = rustSearch(small, qb, 1, SMALL_CALLS)
            if (pass > 1) { sk += a; skBuf += b; sr += r }
        }
        // The generated UniFFI method (no fast path), for reference.
        val raw = dev.ferrovec.ffi.Index::class.java
        val ffiField = Index::class.java.getDeclaredField("ffi").also { it.isAccessible = true }
        val ffi = raw.cast(ffiField.get(small))
        repeat(200) { ffi.search(qb, K.toUInt()) }
        var t = System.nanoTime()
        for (i in 0 until SMALL_CALLS) ffi.search(qb, K.toUInt())
        val uniffiSmall = (System.nanoTime() - t).toDouble() / SMALL_CALLS
        hnsw.close()
        small.close()

        // Bulk add.
        val data = matrix(0, ADD_ROWS)
        val keys = LongArray(ADD_ROWS) { it.toLong() }
        val dataBuf = ByteBuffer.allocateDirect(data.size * 4).order(ByteOrder.LITTLE_ENDIAN)
        dataBuf.asFloatBuffer().put(data)
        val keyBuf = Vectors.ofKeys(keys)
        var bestArray = Double.MAX_VALUE
        var bestBuf = Double.MAX_VALUE
        var bestRust = Double.MAX_VALUE
        repeat(3) {
            engine.newIndex(DIMS, IndexMetric.COSINE).use { fresh ->
                t = System.nanoTime()
                fresh.addBatch(keys, data)
                bestArray = minOf(bestArray, (System.nanoTime() - t) / 1e9)
            }
            engine.newIndex(DIMS, IndexMetric.COSINE).use { fresh ->
                t = System.nanoTime()
                fresh.addBatch(keyBuf, dataBuf)
                bestBuf = minOf(bestBuf, (System.nanoTime() - t) / 1e9)
            }
            val s = RustBench.ferrovec_fast_bench_add(keyBuf, dataBuf, ADD_ROWS, DIMS)
            check(s >= 0) { "ferrovec_fast_bench_add failed: $s" }
            bestRust = minOf(bestRust, s)
        }

        val (mk, mkb, mr) = Triple(median(kt), median(ktBuf), median(rs))
        val (mska, mskb, msr) = Triple(median(sk), median(skBuf), median(sr))
        println("search k=$K, $SEARCH_ROWS x $DIMS HNSW:  kotlin %.2f us/call (FloatArray), %.2f (ByteBuffer)   rust %.2f   extra %+.2f / %+.2f us"
            .format(mk / 1e3, mkb / 1e3, mr / 1e3, (mk - mr) / 1e3, (mkb - mr) / 1e3))
        println("search k=$K, $SMALL_ROWS x $DIMS exact:     kotlin %.2f us/call (FloatArray), %.2f (ByteBuffer)   rust %.2f   extra %+.2f / %+.2f us   (target <= 10 us; plain UniFFI method: %.2f us/call)"
            .format(mska / 1e3, mskb / 1e3, msr / 1e3, (mska - msr) / 1e3, (mskb - msr) / 1e3, uniffiSmall / 1e3))
        println("addBatch $ADD_ROWS x $DIMS: kotlin %,.0f vectors/s (FloatArray+LongArray, copied), %,.0f (direct ByteBuffers)   rust %,.0f   kotlin/rust %.2f / %.2f (target >= 0.80)"
            .format(ADD_ROWS / bestArray, ADD_ROWS / bestBuf, ADD_ROWS / bestRust, bestRust / bestArray, bestRust / bestBuf))
        println(("{\"language\": \"kotlin\", \"passes\": $passes, \"hnsw_search_ns\": %.1f, \"hnsw_search_buffer_ns\": %.1f, \"hnsw_search_rust_ns\": %.1f, " +
            "\"small_search_ns\": %.1f, \"small_search_buffer_ns\": %.1f, \"small_search_rust_ns\": %.1f, \"small_search_uniffi_ns\": %.1f, " +
            "\"add_vectors_per_s\": %.0f, \"add_buffer_vectors_per_s\": %.0f, \"add_rust_vectors_per_s\": %.0f}")
            .format(mk, mkb, mr, mska, mskb, msr, uniffiSmall, ADD_ROWS / bestArray, ADD_ROWS / bestBuf, ADD_ROWS / bestRust))
    }
}
