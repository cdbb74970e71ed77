package dev.ferrovec

import dev.ferrovec.ffi.Engine as FfiEngine
import dev.ferrovec.ffi.InterpretedConfig
import java.nio.ByteBuffer

/** Where an [Engine] (and every [Index] made from it) runs. */
typealias BackendKind = dev.ferrovec.ffi.BackendKind

/**
 * Every kernel on a backend chosen at run time: [Engine.native] (the compiled kernels) or
 * [Engine.interpreted] (ferrovec's wasm module inside the wasmi interpreter, with a fuel
 * budget and a memory cap). Same results and errors on both; the interpreted one adds
 * `FerrovecException.OutOfFuel`, `.OutOfMemory` and `.Trap`, after which it keeps working.
 *
 * Thread-safe. [close] it (or `use { }`) to free it at a known point; indexes made from it
 * keep working after that.
 *
 * ```kotlin
 * Engine.interpreted(fuel = 50_000_000).use { engine ->
 *     engine.newIndex(384, IndexMetric.COSINE).use { index -> ... }
 * }
 * ```
 */
class Engine private constructor(private val ffi: FfiEngine) : AutoCloseable {
    companion object {
        /** The compiled kernels on the process-wide active instruction set. */
        @JvmStatic
        @JvmName("nativeEngine")
        fun native(): Engine = Engine(FfiEngine.native())

        /**
         * The compiled kernels pinned to [isa].
         * @throws dev.ferrovec.error.FerrovecException.UnsupportedIsa if this machine cannot run it.
         */
        @JvmStatic
        @JvmName("nativeEngine")
        fun native(isa: Isa): Engine = Engine(FfiEngine.nativeWithIsa(isa))

        /**
         * ferrovec's wasm module inside wasmi: [module] bytes (default: the bundled simd128
         * module, or the scalar one with [simd] = false), [fuel] per call (null: no limit),
         * [memoryLimit] in bytes (null: no cap), and the [sha256] (64 hex digits) the module
         * must have.
         * @throws dev.ferrovec.error.FerrovecException.InvalidModule for a module that is not
         *   ferrovec's ABI or has another digest.
         */
        @JvmStatic
        @JvmOverloads
        fun interpreted(
            module: ByteArray? = null,
            simd: Boolean = true,
            fuel: Long? = null,
            memoryLimit: Long? = null,
            sha256: String? = null,
        ): Engine {
            require(fuel == null || fuel >= 0) { "fuel must be >= 0" }
            require(memoryLimit == null || memoryLimit >= 0) { "memoryLimit must be >= 0" }
            val config = InterpretedConfig(module, simd, fuel?.toULong(), memoryLimit?.toULong(), sha256)
            return Engine(FfiEngine.interpreted(config))
        }

        /** The process-wide native engine indexes use when none is given. */
        @JvmStatic
        val default: Engine by lazy { native() }
    }

    @Volatile
    private var closed = false

    internal val raw: FfiEngine
        get() {
            if (closed) throw dev.ferrovec.error.FerrovecException.InvalidHandle("engine is closed")
            return ffi
        }

    /** Which backend this engine runs on. */
    val kind: BackendKind get() = raw.kind()

    /** A description of the backend, e.g. `native (avx512+vnni+vpopcntdq)`. */
    fun describe(): String = raw.describe()

    /** Frees the engine now (idempotent); later calls throw `FerrovecException.InvalidHandle`. */
    override fun close() {
        if (closed) return
        closed = true
        ffi.release()
        ffi.close()
    }

    override fun toString(): String = if (closed) "Engine(closed)" else "Engine(${describe()})"

    /** Inner product. */
    fun dot(a: FloatArray, b: FloatArray): Float = Scratch.floats(a, b).let { raw.dotF32(it[0], it[1]) }

    /** Inner product of two direct little-endian f32 buffers. */
    fun dot(a: ByteBuffer, b: ByteBuffer): Float = raw.dotF32(a.asArgument("a"), b.asArgument("b"))

    /** Cosine distance `1 - cos(a, b)`. */
    fun cosineDistance(a: FloatArray, b: FloatArray): Float =
        Scratch.floats(a, b).let { raw.cosineDistanceF32(it[0], it[1]) }

    /** Squared Euclidean distance. */
    fun l2sq(a: FloatArray, b: FloatArray): Float = Scratch.floats(a, b).let { raw.l2sqF32(it[0], it[1]) }

    /** [x] scaled to unit length, and its length before scaling. */
    fun l2Normalize(x: FloatArray): Pair<FloatArray, Float> {
        val out = raw.l2NormalizeF32(Scratch.floats(x)[0])
        return Vectors.toFloatArray(out.vector) to out.norm
    }

    /** Distances from [query] to each row of [rows] (n * d floats, row-major). */
    @JvmOverloads
    fun scan(query: FloatArray, rows: FloatArray, metric: Metric = Metric.COSINE): FloatArray =
        Scratch.floats(query, rows).let { Vectors.toFloatArray(raw.scanF32(metric, it[0], it[1])) }

    /** [scan] over direct little-endian f32 buffers (no copy of the rows). */
    @JvmOverloads
    fun scan(query: ByteBuffer, rows: ByteBuffer, metric: Metric = Metric.COSINE): FloatArray =
        Vectors.toFloatArray(raw.scanF32(metric, query.asArgument("query"), rows.asArgument("rows")))

    /** The [k] smallest of [scores], ascending. */
    fun topK(scores: FloatArray, k: Int): List<Hit> {
        require(k >= 0) { "k must be >= 0, got $k" }
        return raw.topK(Scratch.floats(scores)[0], k.toUInt()).map { Hit(it.index.toInt(), it.score) }
    }

    /** Inner product of two int8 vectors. */
    fun dotI8(a: ByteArray, b: ByteArray): Int = Scratch.bytes(a, b).let { raw.dotI8(it[0], it[1]) }

    /** Squared Euclidean distance of two int8 vectors. */
    fun l2sqI8(a: ByteArray, b: ByteArray): Long = Scratch.bytes(a, b).let { raw.l2sqI8(it[0], it[1]).toLong() }

    /** Differing bits of two packed bit vectors. */
    fun hamming(a: ByteArray, b: ByteArray): Long = Scratch.bytes(a, b).let { raw.hammingB1(it[0], it[1]).toLong() }

    /** Jaccard distance of two packed bit vectors. */
    fun jaccard(a: ByteArray, b: ByteArray): Float = Scratch.bytes(a, b).let { raw.jaccardB1(it[0], it[1]) }

    /** A new, empty [Index] on this engine's backend (see the [Index] constructor). */
    @JvmOverloads
    fun newIndex(
        dims: Int,
        metric: IndexMetric = IndexMetric.COSINE,
        storage: Storage = Storage.F32,
        hnsw: HnswConfig? = null,
    ): Index = Index(dims, metric, storage, hnsw, this)
}
