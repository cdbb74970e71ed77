package dev.ferrovec

import dev.ferrovec.ffi.activeIsa as ffiActiveIsa
import dev.ferrovec.ffi.availableIsas as ffiAvailableIsas
import dev.ferrovec.ffi.cosineDistanceF32 as ffiCosineDistanceF32
import dev.ferrovec.ffi.dotF32 as ffiDotF32
import dev.ferrovec.ffi.dotI8 as ffiDotI8
import dev.ferrovec.ffi.forceIsa as ffiForceIsa
import dev.ferrovec.ffi.hammingB1 as ffiHammingB1
import dev.ferrovec.ffi.jaccardB1 as ffiJaccardB1
import dev.ferrovec.ffi.l2NormalizeF32 as ffiL2NormalizeF32
import dev.ferrovec.ffi.l2sqF32 as ffiL2sqF32
import dev.ferrovec.ffi.l2sqI8 as ffiL2sqI8
import dev.ferrovec.ffi.scanF32 as ffiScanF32
import dev.ferrovec.ffi.topK as ffiTopK
import dev.ferrovec.ffi.version as ffiVersion
import java.nio.ByteBuffer

// Errors: every function here throws `dev.ferrovec.error.FerrovecException` (a sealed class,
// one subclass per kind: `FerrovecException.DimensionMismatch`, `.InvalidArgument`, ...) with
// ferrovec's message. Import it from dev.ferrovec.error: Kotlin cannot reach the nested
// subclasses through a typealias.

/** The distance a scan or index computes; smaller is always closer. */
typealias Metric = dev.ferrovec.ffi.Metric

/** An instruction set ferrovec has kernels for. */
typealias Isa = dev.ferrovec.ffi.Isa

/** One selected score: its position in the input and its value. */
data class Hit(val index: Int, val score: Float)

/** The library itself: version and instruction-set selection. */
object Ferrovec {
    /** The native library version, e.g. "0.1.0". */
    @JvmStatic
    val version: String get() = ffiVersion()

    /** The instruction set the kernels run on in this process. */
    @JvmStatic
    fun activeIsa(): Isa = ffiActiveIsa()

    /** Every instruction set this machine can run, most portable first. */
    @JvmStatic
    fun availableIsas(): List<Isa> = ffiAvailableIsas()

    /**
     * Runs every kernel of this process on [isa] (for tests and benchmarks).
     * @throws FerrovecException.UnsupportedIsa if this machine cannot run it.
     */
    @JvmStatic
    fun forceIsa(isa: Isa) = ffiForceIsa(isa)
}

/**
 * Distance kernels. `FloatArray` overloads copy into per-thread direct memory; `ByteBuffer`
 * overloads take direct little-endian f32 buffers ([Vectors]) and copy nothing.
 *
 * Every function throws [dev.ferrovec.error.FerrovecException] on bad input (e.g.
 * `DimensionMismatch`).
 */
object Kernels {
    /** Inner product. */
    @JvmStatic
    fun dot(a: FloatArray, b: FloatArray): Float = Scratch.floats(a, b).let { ffiDotF32(it[0], it[1]) }

    /** Inner product of two direct little-endian f32 buffers. */
    @JvmStatic
    fun dot(a: ByteBuffer, b: ByteBuffer): Float = ffiDotF32(a.asArgument("a"), b.asArgument("b"))

    /** Cosine distance `1 - cos(a, b)` in [0, 2]. */
    @JvmStatic
    fun cosineDistance(a: FloatArray, b: FloatArray): Float =
        Scratch.floats(a, b).let { ffiCosineDistanceF32(it[0], it[1]) }

    /** Cosine distance of two direct little-endian f32 buffers. */
    @JvmStatic
    fun cosineDistance(a: ByteBuffer, b: ByteBuffer): Float =
        ffiCosineDistanceF32(a.asArgument("a"), b.asArgument("b"))

    /** Squared Euclidean distance. */
    @JvmStatic
    fun l2sq(a: FloatArray, b: FloatArray): Float = Scratch.floats(a, b).let { ffiL2sqF32(it[0], it[1]) }

    /** Squared Euclidean distance of two direct little-endian f32 buffers. */
    @JvmStatic
    fun l2sq(a: ByteBuffer, b: ByteBuffer): Float = ffiL2sqF32(a.asArgument("a"), b.asArgument("b"))

    /**
     * [x] scaled to unit length, and its length before scaling. A vector whose length is
     * zero, infinite or NaN comes back unchanged.
     */
    @JvmStatic
    fun l2Normalize(x: FloatArray): Pair<FloatArray, Float> {
        val out = ffiL2NormalizeF32(Scratch.floats(x)[0])
        return Vectors.toFloatArray(out.vector) to out.norm
    }

    /**
     * Distances from [query] (d floats) to each of the rows in [rows] (n * d floats, row-major).
     * @throws FerrovecException.DimensionMismatch if [rows] is not a whole number of rows.
     */
    @JvmStatic
    @JvmOverloads
    fun scan(query: FloatArray, rows: FloatArray, metric: Metric = Metric.COSINE): FloatArray =
        Scratch.floats(query, rows).let { Vectors.toFloatArray(ffiScanF32(metric, it[0], it[1])) }

    /** [scan] over direct little-endian f32 buffers (no copy of the rows). */
    @JvmStatic
    @JvmOverloads
    fun scan(query: ByteBuffer, rows: ByteBuffer, metric: Metric = Metric.COSINE): FloatArray =
        Vectors.toFloatArray(ffiScanF32(metric, query.asArgument("query"), rows.asArgument("rows")))

    /** The [k] smallest of [scores], ascending, ties broken by lower index, NaN last. */
    @JvmStatic
    fun topK(scores: FloatArray, k: Int): List<Hit> {
        require(k >= 0) { "k must be >= 0, got $k" }
        return ffiTopK(Scratch.floats(scores)[0], k.toUInt()).map { Hit(it.index.toInt(), it.score) }
    }

    /** Inner product of two int8 vectors. */
    @JvmStatic
    fun dotI8(a: ByteArray, b: ByteArray): Int = Scratch.bytes(a, b).let { ffiDotI8(it[0], it[1]) }

    /** Squared Euclidean distance of two int8 vectors. */
    @JvmStatic
    fun l2sqI8(a: ByteArray, b: ByteArray): Long =
        Scratch.bytes(a, b).let { ffiL2sqI8(it[0], it[1]).toLong() }

    /** Number of differing bits of two bit vectors packed in bytes. */
    @JvmStatic
    fun hamming(a: ByteArray, b: ByteArray): Long =
        Scratch.bytes(a, b).let { ffiHammingB1(it[0], it[1]).toLong() }

    /** Jaccard distance of two bit vectors packed in bytes (0 if both are all zeros). */
    @JvmStatic
    fun jaccard(a: ByteArray, b: ByteArray): Float = Scratch.bytes(a, b).let { ffiJaccardB1(it[0], it[1]) }
}
