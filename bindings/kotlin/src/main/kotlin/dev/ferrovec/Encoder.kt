package dev.ferrovec

import dev.ferrovec.ffi.Encoder as FfiEncoder
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * How an encoder holds its linear layers' weights: [Precision.F32] (the checkpoint's values,
 * the default) or [Precision.INT8] (quantized per output channel while loading: a quarter of
 * the f32 linear weights, vectors within a cosine of about 0.998 of the f32 ones for
 * all-MiniLM-L6-v2, the same [Encoder.modelId]; the word embedding table too, and natively the
 * loaded file is let go: about a quarter of the f32 memory).
 */
typealias Precision = dev.ferrovec.ffi.Precision

/**
 * The vectors of a batch of texts in one primitive array, row-major: [n] rows of [dims]
 * floats, row `i` the unit-length vector of text `i` (for `Index.addBatch` as it is).
 */
class Embeddings(val n: Int, val dims: Int, val vectors: FloatArray) {
    /** Row [i] as its own array (a copy). */
    fun row(i: Int): FloatArray = vectors.copyOfRange(i * dims, (i + 1) * dims)

    /** Every row as its own array. */
    fun toArrays(): Array<FloatArray> = Array(n) { row(it) }

    override fun equals(other: Any?): Boolean =
        other is Embeddings && n == other.n && dims == other.dims && vectors.contentEquals(other.vectors)

    override fun hashCode(): Int = vectors.contentHashCode()

    override fun toString(): String = "Embeddings(n=$n, dims=$dims)"
}

/**
 * A sentence encoder (a BERT sentence-transformers model such as all-MiniLM-L6-v2): text in,
 * unit-length vectors out, so cosine similarity is a dot product.
 *
 * ```
 * Encoder.load("models/all-minilm-l6-v2").use { enc ->
 *     val v = enc.embed(listOf("The weather is lovely today.", "It's so sunny outside!"))
 *     // v.n == 2, v.dims == 384, v.vectors: 768 floats
 * }
 * ```
 *
 * `Encoder.load(dir, precision = Precision.INT8)` quantizes the weights to int8 while loading.
 *
 * Thread-safe. [AutoCloseable]: close it (or `use { }`) to free the model at a known point.
 */
class Encoder private constructor(private val ffi: FfiEncoder) : AutoCloseable {
    companion object {
        /**
         * The model in directory [path] (`model.safetensors`, `config.json`,
         * `tokenizer.json` or `vocab.txt`, optionally `1_Pooling/config.json` and
         * `sentence_bert_config.json`) on [engine], its weights at [precision]; the weights are
         * read once.
         * @throws dev.ferrovec.error.FerrovecException.InvalidArgument for a missing file.
         * @throws dev.ferrovec.error.FerrovecException.CorruptFile for an invalid one.
         * @throws dev.ferrovec.error.FerrovecException.InvalidModule for int8 on an interpreted
         *   engine whose encoder module cannot hold int8 weights.
         */
        @JvmStatic
        @JvmOverloads
        fun load(path: String, engine: Engine = Engine.default, precision: Precision = Precision.F32): Encoder =
            Encoder(FfiEncoder.loadWithPrecision(engine.raw, path, precision))

        /** [load] for a [File]. */
        @JvmStatic
        @JvmOverloads
        fun load(dir: File, engine: Engine = Engine.default, precision: Precision = Precision.F32): Encoder =
            load(dir.path, engine, precision)

        /**
         * An encoder from the model's files in memory: [safetensors] is copied once into
         * memory the encoder shares; give [tokenizerJson] or [vocabTxt]; no [poolingJson]
         * means mean pooling, no [sentenceBertConfigJson] the model's own maximum length;
         * [precision] as for [load].
         */
        @JvmStatic
        @JvmOverloads
        fun fromBytes(
            safetensors: ByteArray,
            configJson: ByteArray,
            tokenizerJson: ByteArray? = null,
            vocabTxt: ByteArray? = null,
            poolingJson: ByteArray? = null,
            sentenceBertConfigJson: ByteArray? = null,
            engine: Engine = Engine.default,
            precision: Precision = Precision.F32,
        ): Encoder = Encoder(
            FfiEncoder.fromBytesWithPrecision(
                engine.raw,
                direct(safetensors),
                direct(configJson),
                direct(tokenizerJson),
                direct(vocabTxt),
                direct(poolingJson),
                direct(sentenceBertConfigJson),
                precision,
            ),
        )

        private fun direct(bytes: ByteArray?): ByteBuffer {
            val b = bytes ?: ByteArray(0)
            val buf = ByteBuffer.allocateDirect(b.size)
            buf.put(b).flip()
            return buf
        }
    }

    @Volatile
    private var closed = false

    /** The generated object (for [Index]'s text methods); throws once closed. */
    internal val raw: FfiEncoder
        get() {
            if (closed) throw dev.ferrovec.error.FerrovecException.InvalidHandle("encoder is closed")
            return ffi
        }

    /** Frees the model now (idempotent); later calls throw `FerrovecException.InvalidHandle`. */
    override fun close() {
        if (closed) return
        closed = true
        ffi.release()
        ffi.close()
    }

    /** Whether [close] was called. */
    val isClosed: Boolean get() = closed

    /** Length of the vectors (384 for all-MiniLM-L6-v2). */
    val dims: Int get() = raw.dims().toInt()

    /** Texts are truncated to this many tokens, `[CLS]` and `[SEP]` included. */
    val maxTokens: Int get() = raw.maxTokens().toInt()

    /** A 64-bit fingerprint of the model (u64 bits in a Long), the same on every surface. */
    val modelId: Long get() = raw.modelId().toLong()

    /** The backend the encoder runs on. */
    val kind: BackendKind get() = raw.kind()

    /** How the weights are held (as loaded). */
    val precision: Precision get() = raw.precision()

    /**
     * Threads one [embed] call may use (default 1); 0 sets the machine's available
     * parallelism.
     */
    var threads: Int
        get() = raw.threads().toInt()
        set(value) {
            require(value >= 0) { "threads must be >= 0, got $value" }
            raw.setThreads(value.toUInt())
        }

    /** The token ids the model sees for [text] (`[CLS]` ... `[SEP]`), truncated to [maxTokens]. */
    fun tokenize(text: String): IntArray = raw.tokenize(text).map { it.toInt() }.toIntArray()

    /** The unit-length vectors of [texts], in one row-major [FloatArray] ([Embeddings]). */
    fun embed(texts: List<String>): Embeddings {
        val out = raw.embedArrays(texts)
        val n = out.n.toInt()
        val dims = out.dims.toInt()
        val vectors = FloatArray(n * dims)
        ByteBuffer.wrap(out.vectors).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(vectors)
        return Embeddings(n, dims, vectors)
    }

    /** The unit-length vectors of [texts], one array per text. */
    fun embedArrays(texts: List<String>): Array<FloatArray> = embed(texts).toArrays()

    /** The unit-length vector of [text]. */
    fun embed(text: String): FloatArray = Vectors.toFloatArray(raw.embedOne(text))

    override fun toString(): String =
        if (closed) "Encoder(closed)" else "Encoder(dims=$dims, maxTokens=$maxTokens, modelId=${java.lang.Long.toHexString(modelId)}, precision=$precision)"
}
