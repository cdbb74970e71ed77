package dev.ferrovec

import dev.ferrovec.error.FerrovecException
import java.io.File
import kotlin.math.abs
import kotlin.math.sqrt
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * Encoder on the tiny random BERT model of `make tiny-model` (32 dims, vocab 50, max 40
 * tokens; path from the `ferrovec.tiny.model.dir` property).
 */
class EncoderTest {
    private val dir = File(System.getProperty("ferrovec.tiny.model.dir") ?: "../../target/tiny-bert")
    private val texts = listOf(
        "the weather is lovely today.",
        "it's so sunny outside!",
        "he drove to the stadium.",
        "",
        "cafe 日本 ? , abcd e",
    )

    private fun encoder(): Encoder {
        assertTrue(File(dir, "model.safetensors").exists()) { "$dir has no tiny model: run `make tiny-model`" }
        return Encoder.load(dir)
    }

    @Test
    fun propertiesAndTokenize() = encoder().use { enc ->
        assertEquals(32, enc.dims)
        assertEquals(40, enc.maxTokens)
        assertNotEquals(0L, enc.modelId)
        assertEquals(1, enc.threads)
        assertEquals(BackendKind.NATIVE, enc.kind)
        assertArrayEquals(intArrayOf(2, 5, 6, 7, 8, 9, 10, 3), enc.tokenize("the weather is lovely today."))
        assertArrayEquals(intArrayOf(2, 3), enc.tokenize(""))
        assertEquals(40, enc.tokenize("the sunny ".repeat(100)).size)
    }

    @Test
    fun embedGivesUnitRowsEqualToSingleTexts() = encoder().use { enc ->
        val v = enc.embed(texts)
        assertEquals(texts.size, v.n)
        assertEquals(32, v.dims)
        assertEquals(texts.size * 32, v.vectors.size)
        for (i in texts.indices) {
            val row = v.row(i)
            val norm = sqrt(row.fold(0.0) { s, x -> s + x * x })
            assertTrue(abs(norm - 1.0) < 1e-5) { "row $i norm $norm" }
            assertArrayEquals(row, enc.embed(texts[i]))
        }
        val arrays = enc.embedArrays(texts)
        assertEquals(texts.size, arrays.size)
        assertArrayEquals(v.row(2), arrays[2])
        assertEquals(0, enc.embed(emptyList()).n)
        // Threads: the same vectors.
        val many = List(64) { texts[it % texts.size] + " sunny".repeat(it % 7) }
        val one = enc.embed(many)
        enc.threads = 2
        assertEquals(2, enc.threads)
        val two = enc.embed(many)
        for (i in one.vectors.indices) assertEquals(one.vectors[i], two.vectors[i], 1e-6f)
        assertThrows<IllegalArgumentException> { enc.threads = -1 }
        // The vectors go into an index as they are.
        Index(enc.dims, IndexMetric.COSINE).use { index ->
            index.addBatch(longArrayOf(10, 11, 12), v.vectors.copyOfRange(0, 3 * 32))
            assertEquals(11L, index.search(enc.embed(texts[1]), 1)[0].key)
        }
    }

    @Test
    fun fromBytesMatchesLoad() = encoder().use { enc ->
        fun read(name: String) = File(dir, name).readBytes()
        Encoder.fromBytes(
            read("model.safetensors"),
            read("config.json"),
            tokenizerJson = read("tokenizer.json"),
            poolingJson = read("1_Pooling/config.json"),
            sentenceBertConfigJson = read("sentence_bert_config.json"),
        ).use { e ->
            assertEquals(enc.modelId, e.modelId)
            assertEquals(enc.embed(texts), e.embed(texts))
        }
    }

    @Test
    fun refusals() {
        assertThrows<FerrovecException.InvalidArgument> { Encoder.load(File(dir, "nonexistent")) }
        val weights = File(dir, "model.safetensors").readBytes()
        val config = File(dir, "config.json").readBytes()
        val tok = File(dir, "tokenizer.json").readBytes()
        assertThrows<FerrovecException.CorruptFile> {
            Encoder.fromBytes(weights.copyOfRange(0, weights.size / 2), config, tok)
        }
        assertThrows<FerrovecException> { Encoder.fromBytes(weights, config) }
        // The interpreted backend runs the encoder's wasm module: same id, same vectors.
        Engine.interpreted().use { engine ->
            Encoder.load(dir, engine).use { wasm ->
                encoder().use { native ->
                    assertEquals(native.modelId, wasm.modelId)
                    val a = native.embed(texts).vectors
                    val b = wasm.embed(texts).vectors
                    assertEquals(a.size, b.size)
                    for (i in a.indices) assertTrue(kotlin.math.abs(a[i] - b[i]) <= 1e-5f) { "element $i" }
                }
            }
        }
        val enc = encoder()
        enc.close()
        enc.close()
        assertTrue(enc.isClosed)
        assertThrows<FerrovecException.InvalidHandle> { enc.embed(texts) }
        assertThrows<FerrovecException.InvalidHandle> { enc.dims }
    }

    @Test
    fun int8WeightsKeepTheModelIdAndAgreeWithF32() {
        encoder().use { f32 ->
            assertEquals(Precision.F32, f32.precision)
            val reference = f32.embed(texts)
            Encoder.load(dir, precision = Precision.INT8).use { int8 ->
                assertEquals(Precision.INT8, int8.precision)
                assertEquals(f32.modelId, int8.modelId)
                val got = int8.embed(texts)
                assertNotEquals(reference, got)
                for (i in 0 until got.n) {
                    var dot = 0.0
                    for (j in 0 until got.dims) dot += got.vectors[i * got.dims + j].toDouble() * reference.vectors[i * got.dims + j]
                    assertTrue(dot >= 0.999) { "text $i: int8 vs f32 cosine $dot" }
                }
                fun read(name: String) = File(dir, name).readBytes()
                Encoder.fromBytes(
                    read("model.safetensors"),
                    read("config.json"),
                    read("tokenizer.json"),
                    poolingJson = read("1_Pooling/config.json"),
                    sentenceBertConfigJson = read("sentence_bert_config.json"),
                    precision = Precision.INT8,
                ).use { bytes -> assertEquals(got, bytes.embed(texts)) }
                // The interpreted backend's int8 within 1e-3 (exact integer sums; a quantization rounding
                // boundary may go the other way without FMA).
                Engine.interpreted().use { engine ->
                    Encoder.load(dir, engine, Precision.INT8).use { wasm ->
                        assertEquals(Precision.INT8, wasm.precision)
                        assertEquals(f32.modelId, wasm.modelId)
                        val w = wasm.embed(texts).vectors
                        for (i in w.indices) assertTrue(abs(w[i] - got.vectors[i]) <= 1e-3f) { "element $i" }
                    }
                }
            }
        }
    }
}
