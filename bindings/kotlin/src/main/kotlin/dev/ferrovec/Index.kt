package dev.ferrovec

import com.sun.jna.Memory
import com.sun.jna.Native
import com.sun.jna.Pointer
import dev.ferrovec.ffi.Index as FfiIndex
import dev.ferrovec.ffi.IndexConfig
import java.nio.ByteBuffer
import java.nio.ByteOrder

/** How an index measures distance; smaller is always closer. */
typealias IndexMetric = dev.ferrovec.ffi.IndexMetric

/**
 * How an index stores vectors (queries are always f32): `F32`; `F16` (IEEE half) or `BF16`
 * (bfloat16), half the memory, each value rounded to nearest even (`get` returns the rounded
 * values; with `L2SQ` or `INNER_PRODUCT` a value that would round to infinity throws
 * `InvalidArgument`; their files are format version 3, which older versions refuse); `I8`
 * (int8, a scale per vector); `B1` (sign bits, for `HAMMING` and `JACCARD`).
 */
typealias Storage = dev.ferrovec.ffi.Storage

/** HNSW parameters: `HnswConfig()` for the defaults (m 16, efConstruction 128, efSearch 64). */
typealias HnswConfig = dev.ferrovec.ffi.HnswConfig

/** One search result: a key and its distance to the query. Keys are u64 bits in a Long. */
data class Match(val key: Long, val distance: Float)

private fun List<dev.ferrovec.ffi.Match>.toMatches(): List<Match> = map { Match(it.key.toLong(), it.distance) }

/**
 * [Index.searchBatch] results in primitive arrays, row-major: [n] queries by [k] columns, row
 * `i` holding query `i`'s matches ascending by distance (ties by key). [keys] and
 * [distances] have `n * k` entries; a row with fewer than [k] matches (fewer live vectors) is
 * padded with [NO_KEY] and `+Infinity`; [counts] says how many entries of each row are
 * matches. Keys are u64 bits in a Long, as in [Match].
 */
class BatchMatches(
    val n: Int,
    val k: Int,
    val keys: LongArray,
    val distances: FloatArray,
    val counts: IntArray,
) {
    /** The key at [row], [col] ([NO_KEY] in padding). */
    fun key(row: Int, col: Int): Long = keys[row * k + col]

    /** The distance at [row], [col] (`+Infinity` in padding). */
    fun distance(row: Int, col: Int): Float = distances[row * k + col]

    /** Row [row] as [Match]es without the padding: what [Index.search] returns for it. */
    fun matches(row: Int): List<Match> = List(counts[row]) { Match(key(row, it), distance(row, it)) }

    /** Every row as [matches]: what [Index.searchBatchMatches] returns. */
    fun toMatches(): List<List<Match>> = List(n) { matches(it) }

    override fun equals(other: Any?): Boolean = other is BatchMatches && n == other.n && k == other.k &&
        keys.contentEquals(other.keys) && distances.contentEquals(other.distances) && counts.contentEquals(other.counts)

    override fun hashCode(): Int = (31 * keys.contentHashCode() + distances.contentHashCode()) * 31 + counts.contentHashCode()

    override fun toString(): String = "BatchMatches(n=$n, k=$k, counts=${counts.contentToString()})"

    companion object {
        /** The padding key: u64 max, i.e. -1 as a Long (faiss's padding). A live key may
         * equal it; [counts] is the authority. */
        const val NO_KEY: Long = -1L

        internal fun of(raw: dev.ferrovec.ffi.BatchResultBytes): BatchMatches {
            val n = raw.n.toInt()
            val k = raw.k.toInt()
            val keys = LongArray(n * k)
            ByteBuffer.wrap(raw.keys).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(keys)
            val distances = FloatArray(n * k)
            ByteBuffer.wrap(raw.distances).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(distances)
            val counts = IntArray(n)
            ByteBuffer.wrap(raw.counts).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(counts)
            return BatchMatches(n, k, keys, distances, counts)
        }
    }
}

/**
 * The search fast path (ffi/src/bindings/fast.rs): one JNA direct-mapped call writing the
 * matches into a per-thread direct buffer, instead of a UniFFI method call (handle clone,
 * call, buffer free, records lifted field by field: ~100 us per k=10 search here, against a
 * budget of 10 us). A non-zero status makes [Index.search] repeat the call through UniFFI,
 * which throws the typed exception.
 */
internal object FastPath {
    /** Whether the library has the fast path (an older libferrovec may not). */
    val available: Boolean = try {
        Native.register(FastPath::class.java, "ferrovec")
        true
    } catch (e: Throwable) {
        false
    }

    const val MAX_K = 4096

    @JvmStatic external fun ferrovec_fast_index_search(id: Long, query: FloatArray, n: Int, k: Int, out: ByteBuffer): Int

    @JvmStatic external fun ferrovec_fast_index_search(id: Long, query: ByteBuffer, n: Int, k: Int, out: ByteBuffer): Int

    @JvmStatic external fun ferrovec_fast_index_search_allowed(
        id: Long, query: FloatArray, n: Int, k: Int, allowed: LongArray, nAllowed: Int, out: ByteBuffer,
    ): Int

    @JvmStatic external fun ferrovec_fast_index_search_allowed(
        id: Long, query: ByteBuffer, n: Int, k: Int, allowed: ByteBuffer, nAllowed: Int, out: ByteBuffer,
    ): Int

    @JvmStatic external fun ferrovec_fast_index_add_batch(
        id: Long, keys: Pointer, n: Int, vectors: Pointer, nFloats: Int, replace: Int,
    ): Int

    private val scratch = ThreadLocal<ByteBuffer>()

    /** A per-thread result block for [k] matches: count, then 16-byte records. */
    fun out(k: Int): ByteBuffer {
        var buf = scratch.get()
        if (buf == null || buf.capacity() < 8 + 16 * k) {
            buf = ByteBuffer.allocateDirect(8 + 16 * maxOf(k, 64)).order(ByteOrder.LITTLE_ENDIAN)
            scratch.set(buf)
        }
        return buf!!
    }

    fun read(out: ByteBuffer): List<Match> {
        val n = out.getInt(0)
        return List(n) { Match(out.getLong(8 + 16 * it), out.getFloat(16 + 16 * it)) }
    }
}

/**
 * A vector index: vectors of [dims] floats under `Long` keys (read as u64), searched exactly
 * (hnsw = null) or with HNSW, on the backend of [engine] (default: native).
 *
 * Vectors are `FloatArray`s (copied into per-thread direct memory) or direct little-endian
 * `ByteBuffer`s ([Vectors.of], [Vectors.allocate]; passed to Rust without a copy, the way to
 * move bulk data). Errors throw `dev.ferrovec.error.FerrovecException` subclasses
 * (`DimensionMismatch`, `DuplicateKey`, `KeyNotFound`, `CorruptFile`, ...) and leave the
 * index unchanged.
 *
 * Thread-safe: any number of threads may search while one adds or removes. [close] it (or
 * `use { }`) to free its memory at a known point.
 *
 * Text: an index made by [forEncoder] (or a handle from [withEncoder]) carries an [Encoder]
 * and adds and searches by text ([addText], [addTexts], [searchText], [searchTexts]). It
 * records the encoder's [modelId], which files keep; loading or attaching another model's
 * encoder throws `FerrovecException.InvalidArgument` naming both ids.
 * ```
 * Encoder.load("models/all-minilm-l6-v2").use { enc ->
 *     Index.forEncoder(enc).use { index ->
 *         index.addTexts(longArrayOf(1, 2), listOf("The weather is lovely today.", "He drove to the stadium."))
 *         index.searchText("sunny", 1) // [Match(key=1, ...)]
 *     }
 * }
 * ```
 */
class Index private constructor(private val ffi: FfiIndex) : AutoCloseable {
    @JvmOverloads
    constructor(
        dims: Int,
        metric: IndexMetric = IndexMetric.COSINE,
        storage: Storage = Storage.F32,
        hnsw: HnswConfig? = null,
        engine: Engine = Engine.default,
    ) : this(FfiIndex(engine.raw, IndexConfig(checkedDims(dims), metric, storage, hnsw)))

    companion object {
        private fun checkedDims(dims: Int): UInt {
            require(dims >= 0) { "dims must be >= 0, got $dims" }
            return dims.toUInt()
        }

        /** An index from [toBytes] output (any backend, any language). */
        @JvmStatic
        @JvmOverloads
        fun fromBytes(bytes: ByteArray, engine: Engine = Engine.default): Index {
            val buf = ByteBuffer.allocateDirect(bytes.size)
            buf.put(bytes).flip()
            return Index(FfiIndex.fromBytes(engine.raw, buf))
        }

        /** An index from a file written by [save]. */
        @JvmStatic
        @JvmOverloads
        fun load(path: String, engine: Engine = Engine.default): Index = Index(FfiIndex.load(engine.raw, path))

        /**
         * An empty index for [encoder]'s vectors (`encoder.dims` dims) with the encoder
         * attached and its model id recorded. The vectors have unit length, so COSINE (or
         * INNER_PRODUCT, the same ranking) fits.
         */
        @JvmStatic
        @JvmOverloads
        fun forEncoder(
            encoder: Encoder,
            metric: IndexMetric = IndexMetric.COSINE,
            storage: Storage = Storage.F32,
            hnsw: HnswConfig? = null,
            engine: Engine = Engine.default,
        ): Index = Index(
            FfiIndex.newText(engine.raw, encoder.raw, IndexConfig(checkedDims(encoder.dims), metric, storage, hnsw)),
        )

        /**
         * [fromBytes] with [encoder] attached: the bytes' model id, if any, must be the
         * encoder's (`InvalidArgument` naming both otherwise).
         */
        @JvmStatic
        @JvmOverloads
        fun fromBytes(bytes: ByteArray, encoder: Encoder, engine: Engine = Engine.default): Index {
            val buf = ByteBuffer.allocateDirect(bytes.size)
            buf.put(bytes).flip()
            return Index(FfiIndex.fromBytesWithEncoder(engine.raw, buf, encoder.raw))
        }

        /** [load] with [encoder] attached (see [fromBytes]). */
        @JvmStatic
        @JvmOverloads
        fun load(path: String, encoder: Encoder, engine: Engine = Engine.default): Index =
            Index(FfiIndex.loadWithEncoder(engine.raw, path, encoder.raw))
    }

    @Volatile
    private var closed = false

    private val raw: FfiIndex
        get() {
            if (closed) throw dev.ferrovec.error.FerrovecException.InvalidHandle("index is closed")
            return ffi
        }

    /** Frees the index now (idempotent); later calls throw `FerrovecException.InvalidHandle`. */
    override fun close() {
        if (closed) return
        closed = true
        ffi.release()
        ffi.close()
    }

    /** This index's id on the search fast path (0: not available). */
    private val fastId: Long = if (FastPath.available) ffi.fastPathId().toLong() else 0L

    /** Whether [close] was called. */
    val isClosed: Boolean get() = closed

    /** The options the index was created or loaded with. */
    val config: IndexConfig get() = raw.config()

    /** Dimension of every vector. */
    val dims: Int get() = raw.dims().toInt()

    /** Live (added and not removed) vectors. */
    val size: Int get() = raw.len().toInt()

    /** Vectors the index holds before it reallocates. */
    val capacity: Long get() = raw.capacity().toLong()

    /** Which backend the index runs on. */
    val backend: BackendKind get() = raw.backendKind()

    fun isEmpty(): Boolean = raw.isEmpty()

    override fun toString(): String =
        if (closed) "Index(closed)" else config.let { "Index(dims=${it.dims}, ${it.metric}, ${it.storage}, " +
            "${if (it.hnsw == null) "exact" else "hnsw"}, size=$size, $backend)" }

    /** Makes room for [additional] more vectors. */
    fun reserve(additional: Long) {
        require(additional >= 0) { "additional must be >= 0" }
        raw.reserve(additional.toULong())
    }

    /** Adds [vector] under [key]; an existing key throws `DuplicateKey` unless [replace]. */
    @JvmOverloads
    fun add(key: Long, vector: FloatArray, replace: Boolean = false) =
        raw.add(key.toULong(), Scratch.floats(vector)[0], replace)

    /** Adds a direct little-endian f32 [vector] under [key] (no copy). */
    @JvmOverloads
    fun add(key: Long, vector: ByteBuffer, replace: Boolean = false) =
        raw.add(key.toULong(), vector.asArgument("vector"), replace)

    /** Adds `keys.size` vectors ([vectors]: keys.size * dims floats, row-major), all or nothing. */
    @JvmOverloads
    fun addBatch(keys: LongArray, vectors: FloatArray, replace: Boolean = false) {
        // The fast path copies the arrays once into malloc'd memory (ByteBuffer.allocateDirect
        // would zero the whole batch first; JNA's array passing copies it there and back);
        // a failure changed nothing and is repeated below for the typed exception.
        if (fastId != 0L && !closed && keys.isNotEmpty() && vectors.isNotEmpty()) {
            val status = Memory(keys.size * 8L).use { k ->
                Memory(vectors.size * 4L).use { v ->
                    k.write(0, keys, 0, keys.size)
                    v.write(0, vectors, 0, vectors.size)
                    FastPath.ferrovec_fast_index_add_batch(fastId, k, keys.size, v, vectors.size, if (replace) 1 else 0)
                }
            }
            if (status == 0) return
        }
        val (vec, k) = Scratch.floatsAndLongs(vectors, keys)
        raw.addBatch(k!!, vec, replace)
    }

    /** Adds one vector per row of [rows] under [keys], all or nothing. */
    @JvmOverloads
    fun addBatch(keys: LongArray, rows: List<FloatArray>, replace: Boolean = false) =
        raw.addBatch(Vectors.ofKeys(keys), Vectors.of(rows), replace)

    /**
     * Adds a batch from direct little-endian buffers: [keys] (u64 each, see [Vectors.ofKeys]) and
     * [vectors] (f32, row-major), without copying either.
     */
    @JvmOverloads
    fun addBatch(keys: ByteBuffer, vectors: ByteBuffer, replace: Boolean = false) =
        raw.addBatch(keys.asArgument("keys"), vectors.asArgument("vectors"), replace)

    /** Removes [key] (`KeyNotFound` if absent); [compact] reclaims the space. */
    fun remove(key: Long) = raw.remove(key.toULong())

    /** Reclaims removed vectors' space and repairs the HNSW graph. */
    fun compact() = raw.compact()

    /** Removes every vector. */
    fun clear() = raw.clear()

    /** Whether [key] is live (`key in index`). */
    operator fun contains(key: Long): Boolean = raw.contains(key.toULong())

    /** The stored vector (dequantized); `KeyNotFound` if absent. */
    operator fun get(key: Long): FloatArray = Vectors.toFloatArray(raw.get(key.toULong()))

    /** HNSW search beam width (`InvalidArgument` on an exact index). */
    fun setEfSearch(ef: Int) {
        require(ef >= 0) { "ef must be >= 0" }
        raw.setEfSearch(ef.toUInt())
    }

    /**
     * The [k] nearest vectors to [query], ascending by distance (ties by key); only keys in
     * [allowed] when given. `k > size` returns everything; `k = 0` throws `InvalidArgument`.
     */
    @JvmOverloads
    fun search(query: FloatArray, k: Int = 10, allowed: LongArray? = null): List<Match> {
        require(k >= 0) { "k must be >= 0, got $k" }
        if (fastId != 0L && !closed && k in 1..FastPath.MAX_K) {
            val out = FastPath.out(k)
            val status = if (allowed == null) FastPath.ferrovec_fast_index_search(fastId, query, query.size, k, out)
            else FastPath.ferrovec_fast_index_search_allowed(fastId, query, query.size, k, allowed, allowed.size, out)
            if (status == 0) return FastPath.read(out)
            // Otherwise the UniFFI call below throws the typed exception.
        }
        val (q, keys) = Scratch.floatsAndLongs(query, allowed)
        return if (keys == null) raw.search(q, k.toUInt()).toMatches()
        else raw.searchAllowed(q, k.toUInt(), keys).toMatches()
    }

    /** [search] with a direct little-endian f32 [query] (and u64 [allowed] keys). */
    @JvmOverloads
    fun search(query: ByteBuffer, k: Int = 10, allowed: ByteBuffer? = null): List<Match> {
        require(k >= 0) { "k must be >= 0, got $k" }
        val q = query.asArgument("query")
        val a = allowed?.asArgument("allowed")
        if (fastId != 0L && !closed && k in 1..FastPath.MAX_K && q.remaining() % 4 == 0 && (a == null || a.remaining() % 8 == 0)) {
            val out = FastPath.out(k)
            val status = if (a == null) FastPath.ferrovec_fast_index_search(fastId, q, q.remaining() / 4, k, out)
            else FastPath.ferrovec_fast_index_search_allowed(fastId, q, q.remaining() / 4, k, a, a.remaining() / 8, out)
            if (status == 0) return FastPath.read(out)
        }
        return if (a == null) raw.search(q, k.toUInt()).toMatches()
        else raw.searchAllowed(q, k.toUInt(), a).toMatches()
    }

    /**
     * The [k] nearest vectors to each query ([queries]: n * dims floats, row-major) as
     * primitive arrays ([BatchMatches]: `n * k` keys and distances, padded with
     * [BatchMatches.NO_KEY] / `+Infinity` where fewer than [k] exist, and a count per
     * query), without an object per match. The same results as one [search] per query.
     */
    @JvmOverloads
    fun searchBatch(queries: FloatArray, k: Int = 10): BatchMatches {
        require(k >= 0) { "k must be >= 0, got $k" }
        return BatchMatches.of(raw.searchBatchArrays(Scratch.floats(queries)[0], k.toUInt()))
    }

    /** One [search] per query, as lists of [Match] (no padding). */
    @JvmOverloads
    fun searchBatchMatches(queries: FloatArray, k: Int = 10): List<List<Match>> {
        require(k >= 0) { "k must be >= 0, got $k" }
        return raw.searchBatch(Scratch.floats(queries)[0], k.toUInt()).map { it.toMatches() }
    }

    // ---- text

    /**
     * A new [Index] on the same index (the vectors are shared) that carries [encoder] for the
     * text methods; this object is unchanged. Throws `DimensionMismatch` when the dims differ
     * and `InvalidArgument` (naming both ids) when the index holds another model's vectors.
     */
    fun withEncoder(encoder: Encoder): Index = Index(raw.withEncoder(encoder.raw))

    /** Whether this object carries an encoder (the text methods need one). */
    val hasEncoder: Boolean get() = raw.hasEncoder()

    /**
     * The model id (u64 bits in a Long, as [Encoder.modelId]) of the encoder that made the
     * vectors, recorded by the first text added or by [forEncoder] and kept by [save]; null
     * for an index of plain vectors.
     */
    val modelId: Long? get() = raw.modelId()?.toLong()

    /** Embeds [text] with the encoder and adds it under [key] (`DuplicateKey` unless [replace]). */
    @JvmOverloads
    fun addText(key: Long, text: String, replace: Boolean = false) = raw.addText(key.toULong(), text, replace)

    /** Embeds [texts] in one batch and adds `texts[i]` under `keys[i]`, all or nothing. */
    @JvmOverloads
    fun addTexts(keys: LongArray, texts: List<String>, replace: Boolean = false) =
        raw.addTexts(keys.map { it.toULong() }, texts, replace)

    /** The [k] nearest vectors to the embedding of [text] (see [search]). */
    @JvmOverloads
    fun searchText(text: String, k: Int = 10): List<Match> {
        require(k >= 0) { "k must be >= 0, got $k" }
        return raw.searchText(text, k.toUInt()).toMatches()
    }

    /** One [searchText] per text, the texts embedded in one batch. */
    @JvmOverloads
    fun searchTexts(texts: List<String>, k: Int = 10): List<List<Match>> {
        require(k >= 0) { "k must be >= 0, got $k" }
        return raw.searchTexts(texts, k.toUInt()).map { it.toMatches() }
    }

    /** The index in ferrovec's portable file format. */
    fun toBytes(): ByteArray = raw.toBytes()

    /** Writes [toBytes] to [path] atomically. */
    fun save(path: String) = raw.save(path)
}
