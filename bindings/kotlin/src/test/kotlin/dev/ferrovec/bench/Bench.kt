package dev.ferrovec.bench

import dev.ferrovec.Engine
import dev.ferrovec.HnswConfig
import dev.ferrovec.IndexMetric
import dev.ferrovec.Vectors
import java.nio.ByteBuffer
import java.nio.ByteOrder

// Kotlin (JVM) vs Rust: k=10 search call cost and bulk add throughput (issue 5). Not a test.
//
//   make bench-kotlin    # runs `cargo bench -p ferrovec --bench bindings -- --json` first
//
// The workload and data are those of ffi/benches/bindings.rs (see its docs). `-Dferrovec.rust`
// carries the Rust JSON line to compare against.

private const val DIMS = 384
private const val SEARCH_ROWS = 10_000
private const val QUERIES = 200
private const val K = 10
private const val ADD_ROWS = 100_000
private const val QUERY_BASE = 1L shl 40
private const val SMALL_ROWS = 16
private const val SMALL_CALLS = 2_000

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

private fun rustField(json: String?, name: String): Double? =
    json?.let { Regex("\"$name\": *([0-9.eE+-]+)").find(it)?.groupValues?.get(1)?.toDouble() }

fun main(args: Array<String>) {
    val quick = args.contains("--quick") || System.getProperty("ferrovec.quick") == "true"
    val passes = if (quick) 5 else 15
    val rust = System.getProperty("ferrovec.rust")?.takeIf { it.isNotBlank() }
    Engine.native().use { engine ->
        val rows = matrix(0, SEARCH_ROWS)
        val queries = matrix(QUERY_BASE, QUERIES)
        val qs = (0 until QUERIES).map { queries.copyOfRange(it * DIMS, (it + 1) * DIMS) }
        val qbufs = qs.map { Vectors.of(it) }
        var searchNs = 0.0
        var searchBufNs = 0.0
        var checksum = 0L
        engine.newIndex(DIMS, IndexMetric.COSINE, hnsw = HnswConfig()).use { index ->
            index.addBatch(LongArray(SEARCH_ROWS) { it.toLong() }, rows)
            for (q in qs) checksum += index.search(q, K)[0].key
            val samples = ArrayList<Double>()
            val bufSamples = ArrayList<Double>()
            repeat(passes) {
                var t = System.nanoTime()
                for (q in qs) index.search(q, K)
                samples += (System.nanoTime() - t).toDouble() / QUERIES
                t = System.nanoTime()
                for (q in qbufs) index.search(q, K)
                bufSamples += (System.nanoTime() - t).toDouble() / QUERIES
            }
            searchNs = median(samples)
            searchBufNs = median(bufSamples)
        }
        var smallNs = 0.0
        var smallBufNs = 0.0
        engine.newIndex(DIMS, IndexMetric.COSINE).use { small ->
            small.addBatch(LongArray(SMALL_ROWS) { it.toLong() }, rows.copyOfRange(0, SMALL_ROWS * DIMS))
            val q = qs[0]
            val qb = qbufs[0]
            repeat(2) { for (i in 0 until SMALL_CALLS) { small.search(q, K); small.search(qb, K) } } // JIT warm-up
            val samples = ArrayList<Double>()
            val bufSamples = ArrayList<Double>()
            repeat(passes) {
                var t = System.nanoTime()
                for (i in 0 until SMALL_CALLS) small.search(q, K)
                samples += (System.nanoTime() - t).toDouble() / SMALL_CALLS
                t = System.nanoTime()
                for (i in 0 until SMALL_CALLS) small.search(qb, K)
                bufSamples += (System.nanoTime() - t).toDouble() / SMALL_CALLS
            }
            smallNs = median(samples)
            smallBufNs = median(bufSamples)
        }

        val data = matrix(0, ADD_ROWS)
        val keys = LongArray(ADD_ROWS) { it.toLong() }
        val dataBuf = ByteBuffer.allocateDirect(data.size * 4).order(ByteOrder.LITTLE_ENDIAN)
        dataBuf.asFloatBuffer().put(data)
        val keyBuf = Vectors.ofKeys(keys)
        var bestArray = Double.MAX_VALUE
        var bestBuf = Double.MAX_VALUE
        repeat(3) {
            engine.newIndex(DIMS, IndexMetric.COSINE).use { fresh ->
                val t = System.nanoTime()
                fresh.addBatch(keys, data)
                bestArray = minOf(bestArray, (System.nanoTime() - t) / 1e9)
            }
            engine.newIndex(DIMS, IndexMetric.COSINE).use { fresh ->
                val t = System.nanoTime()
                fresh.addBatch(keyBuf, dataBuf)
                bestBuf = minOf(bestBuf, (System.nanoTime() - t) / 1e9)
            }
        }
        val addArray = ADD_ROWS / bestArray
        val addBuf = ADD_ROWS / bestBuf

        println("kotlin: k=$K search on $SEARCH_ROWS x $DIMS HNSW: %.2f us/call (FloatArray), %.2f us/call (direct ByteBuffer)".format(searchNs / 1e3, searchBufNs / 1e3))
        println("kotlin: k=$K search on $SMALL_ROWS x $DIMS exact: %.2f us/call (FloatArray), %.2f us/call (direct ByteBuffer)".format(smallNs / 1e3, smallBufNs / 1e3))
        println("kotlin: addBatch $ADD_ROWS x $DIMS: %,.0f vectors/s (FloatArray + LongArray, copied), %,.0f vectors/s (direct ByteBuffers, zero-copy)".format(addArray, addBuf))
        if (rust != null) {
            val rSearch = rustField(rust, "search_ns")!!
            val rSmall = rustField(rust, "small_search_ns")!!
            val rAdd = rustField(rust, "add_vectors_per_s")!!
            val rChecksum = rustField(rust, "checksum")!!.toLong()
            println("rust:   %.2f us/call (10k HNSW), %.2f us/call (16 exact), %,.0f vectors/s; same results: %s".format(rSearch / 1e3, rSmall / 1e3, rAdd, rChecksum == checksum))
            println("overhead per search call (16 exact): %+.2f us FloatArray, %+.2f us ByteBuffer (target <= 10 us)".format((smallNs - rSmall) / 1e3, (smallBufNs - rSmall) / 1e3))
            println("10k HNSW search: kotlin / rust = %.3f (%+.1f us, includes run-to-run noise)".format(searchNs / rSearch, (searchNs - rSearch) / 1e3))
            println("bulk add: kotlin / rust = %.2f FloatArray, %.2f ByteBuffer (target >= 0.80)".format(addArray / rAdd, addBuf / rAdd))
        }
        println("{\"language\": \"kotlin\", \"search_ns\": %.1f, \"search_buffer_ns\": %.1f, \"small_search_ns\": %.1f, \"small_search_buffer_ns\": %.1f, \"add_vectors_per_s\": %.0f, \"add_buffer_vectors_per_s\": %.0f, \"checksum\": %d}".format(searchNs, searchBufNs, smallNs, smallBufNs, addArray, addBuf, checksum))
    }
}
