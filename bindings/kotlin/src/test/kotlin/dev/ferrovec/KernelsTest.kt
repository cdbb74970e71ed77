package dev.ferrovec

import dev.ferrovec.error.FerrovecException
import java.nio.ByteBuffer
import java.nio.ByteOrder
import kotlin.math.abs
import kotlin.math.sqrt
import kotlin.random.Random
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class KernelsTest {
    private fun randomVector(rng: Random, n: Int) = FloatArray(n) { rng.nextFloat() * 2 - 1 }

    private fun refDot(a: FloatArray, b: FloatArray): Double {
        var s = 0.0
        for (i in a.indices) s += a[i].toDouble() * b[i].toDouble()
        return s
    }

    private fun refL2sq(a: FloatArray, b: FloatArray): Double {
        var s = 0.0
        for (i in a.indices) {
            val d = a[i].toDouble() - b[i].toDouble()
            s += d * d
        }
        return s
    }

    private fun refCosine(a: FloatArray, b: FloatArray): Double {
        val aa = refDot(a, a)
        val bb = refDot(b, b)
        if (aa == 0.0 && bb == 0.0) return 0.0
        if (aa == 0.0 || bb == 0.0) return 1.0
        return 1 - refDot(a, b) / sqrt(aa * bb)
    }

    @Test
    fun pairwiseKernelsMatchFloat64Reference() {
        val rng = Random(42)
        for (n in listOf(0, 1, 7, 16, 33, 384, 1000)) {
            val a = randomVector(rng, n)
            val b = randomVector(rng, n)
            var scale = 1e-30
            for (i in a.indices) scale += abs(a[i].toDouble() * b[i].toDouble())
            assertEquals(refDot(a, b), Kernels.dot(a, b).toDouble(), 1e-5 * scale, "dot n=$n")
            assertEquals(refL2sq(a, b), Kernels.l2sq(a, b).toDouble(), 1e-5 * (refL2sq(a, b) + 1e-30) + 1e-6, "l2sq n=$n")
            assertEquals(refCosine(a, b), Kernels.cosineDistance(a, b).toDouble(), 2e-5, "cosine n=$n")
        }
    }

    @Test
    fun byteBufferOverloadsAgreeWithFloatArrays() {
        val rng = Random(1)
        val a = randomVector(rng, 100)
        val b = randomVector(rng, 100)
        val want = Kernels.dot(a, b)
        assertEquals(want, Kernels.dot(Vectors.of(a), Vectors.of(b)))
        // A buffer whose position is not 0 passes the region from its position.
        val padded = Vectors.allocate(103)
        padded.position(12)
        padded.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(a)
        assertEquals(want, Kernels.dot(padded, Vectors.of(b)))
        assertEquals(12, padded.position(), "the caller's buffer is not moved")
    }

    @Test
    fun heapBuffersAreRejectedClearly() {
        val heap = ByteBuffer.allocate(8)
        val err = assertThrows<IllegalArgumentException> { Kernels.dot(heap, Vectors.allocate(2)) }
        assertTrue(err.message!!.contains("direct"), err.message)
    }

    @Test
    fun scanMatchesReferenceForEveryMetric() {
        val rng = Random(7)
        val dims = 24
        val rows = List(50) { randomVector(rng, dims) }
        val q = randomVector(rng, dims)
        val flat = FloatArray(50 * dims).also { out -> rows.forEachIndexed { i, r -> r.copyInto(out, i * dims) } }
        val cases = mapOf<Metric, (FloatArray) -> Double>(
            Metric.DOT to { r -> -refDot(q, r) },
            Metric.L2SQ to { r -> refL2sq(q, r) },
            Metric.COSINE to { r -> refCosine(q, r) },
        )
        for ((metric, ref) in cases) {
            val got = Kernels.scan(q, flat, metric)
            assertEquals(50, got.size)
            for (i in rows.indices) assertEquals(ref(rows[i]), got[i].toDouble(), 1e-5, "$metric row $i")
            assertArrayEquals(got, Kernels.scan(Vectors.of(q), Vectors.of(rows), metric))
        }
        assertThrows<FerrovecException.DimensionMismatch> { Kernels.scan(q, flat.copyOf(flat.size - 1)) }
    }

    @Test
    fun topKOrdersAndBreaksTies() {
        val hits = Kernels.topK(floatArrayOf(3f, 1f, 2f, 1f, Float.NaN), 4)
        assertEquals(listOf(1, 3, 2, 0), hits.map { it.index })
        assertEquals(Hit(1, 1f), hits[0])
        assertEquals(emptyList<Hit>(), Kernels.topK(floatArrayOf(1f), 0))
        assertThrows<IllegalArgumentException> { Kernels.topK(floatArrayOf(1f), -1) }
    }

    @Test
    fun normalize() {
        val (unit, norm) = Kernels.l2Normalize(floatArrayOf(3f, 4f))
        assertEquals(5f, norm)
        assertArrayEquals(floatArrayOf(0.6f, 0.8f), unit, 1e-7f)
        val (zero, zeroNorm) = Kernels.l2Normalize(floatArrayOf(0f, 0f))
        assertEquals(0f, zeroNorm)
        assertArrayEquals(floatArrayOf(0f, 0f), zero)
    }

    @Test
    fun int8AndBinaryKernels() {
        val a = byteArrayOf(-128, -1, 0, 5, 127)
        val b = byteArrayOf(127, 3, -7, 5, -128)
        assertEquals(a.indices.sumOf { a[it] * b[it] }, Kernels.dotI8(a, b))
        assertEquals(a.indices.sumOf { ((a[it] - b[it]) * (a[it] - b[it])).toLong() }, Kernels.l2sqI8(a, b))
        val x = byteArrayOf(0xF0.toByte(), 0xFF.toByte())
        val y = byteArrayOf(0xA0.toByte(), 0x0F)
        assertEquals(6L, Kernels.hamming(x, y))
        assertEquals(0.5f, Kernels.jaccard(x, y), 1e-6f)
        assertEquals(0f, Kernels.jaccard(ByteArray(2), ByteArray(2)))
    }

    @Test
    fun errorsAreTypedExceptionsWithMessages() {
        val e = assertThrows<FerrovecException.DimensionMismatch> { Kernels.dot(floatArrayOf(1f, 2f), floatArrayOf(1f, 2f, 3f)) }
        assertEquals("dimension mismatch: expected 2, got 3", e.message)
        val partial = ByteBuffer.allocateDirect(7)
        val e2 = assertThrows<FerrovecException.InvalidArgument> { Kernels.l2sq(Vectors.allocate(2), partial) }
        assertTrue(e2.message!!.contains("multiple of 4"), e2.message)
        // Every variant is a FerrovecException, a kotlin.Exception.
        val any: Exception = assertThrows<FerrovecException> { Kernels.hamming(ByteArray(1), ByteArray(2)) }
        assertTrue(any is FerrovecException.DimensionMismatch)
    }

    @Test
    fun isaSelectionRoundTrip() {
        val original = Ferrovec.activeIsa()
        val available = Ferrovec.availableIsas()
        assertTrue(Isa.SCALAR in available && original in available)
        try {
            for (isa in available) {
                Ferrovec.forceIsa(isa)
                assertEquals(isa, Ferrovec.activeIsa())
                assertEquals(32f, Kernels.dot(floatArrayOf(1f, 2f, 3f), floatArrayOf(4f, 5f, 6f)))
            }
            for (isa in Isa.entries.filter { it !in available }) {
                assertThrows<FerrovecException.UnsupportedIsa> { Ferrovec.forceIsa(isa) }
            }
        } finally {
            Ferrovec.forceIsa(original)
        }
    }

    @Test
    fun version() {
        assertEquals(2, Ferrovec.version.count { it == '.' })
    }
}
