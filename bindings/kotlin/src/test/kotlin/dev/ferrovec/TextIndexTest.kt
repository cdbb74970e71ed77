package dev.ferrovec

import dev.ferrovec.error.FerrovecException
import java.io.File
import java.nio.file.Files
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * Text on the index ([Index.forEncoder], [Index.withEncoder], addText(s), searchText(s),
 * modelId) on the tiny random models of `make tiny-model`: target/tiny-bert (property
 * `ferrovec.tiny.model.dir`) and its seed-2 twin target/tiny-bert-seed2 (same shape, another
 * model id). The behaviour every surface asserts: a text finds itself first and equals embed +
 * search, save + load keep the model id, another model's encoder is refused naming both ids,
 * and the interpreted backend gives the same top keys as native.
 */
class TextIndexTest {
    private val dir = File(System.getProperty("ferrovec.tiny.model.dir") ?: "../../target/tiny-bert")
    private val seed2 = File(dir.path + "-seed2")
    private val texts = listOf(
        "The weather is lovely today.",
        "It's so sunny outside!",
        "He drove to the stadium.",
        "a cafe today",
        "日本 is so lovely",
        "the stadium is outside",
    )
    private val keys = LongArray(texts.size) { 100L + it }

    private fun load(d: File, engine: Engine = Engine.default): Encoder {
        assertTrue(File(d, "model.safetensors").exists()) { "$d has no tiny model: run `make tiny-model`" }
        return Encoder.load(d, engine)
    }

    private fun filled(enc: Encoder, engine: Engine = Engine.default): Index =
        Index.forEncoder(enc, engine = engine).also {
            it.addText(keys[0], texts[0])
            it.addTexts(keys.copyOfRange(1, keys.size), texts.drop(1))
        }

    private fun hex(id: Long) = "%016x".format(id)

    @Test
    fun addAndSearchByText(): Unit = load(dir).use { enc ->
        filled(enc).use { index ->
            assertEquals(texts.size, index.size)
            assertEquals(enc.modelId, index.modelId)
            assertTrue(index.hasEncoder)
            texts.forEachIndexed { i, text ->
                val hits = index.searchText(text, 3)
                assertEquals(keys[i], hits[0].key, text)
                assertTrue(hits[0].distance < 1e-5f)
                assertEquals(index.search(enc.embed(text), 3), hits)
            }
            val batch = index.searchTexts(texts, 2)
            assertEquals(keys.toList(), batch.map { it[0].key })
            assertEquals(index.searchText(texts[2], 2), batch[2])

            assertThrows<FerrovecException.DuplicateKey> { index.addText(keys[0], "so sunny") }
            val before = index.toBytes()
            assertThrows<FerrovecException.DuplicateKey> { index.addTexts(longArrayOf(7, keys[1]), listOf("a", "b")) }
            assertThrows<FerrovecException.DimensionMismatch> { index.addTexts(longArrayOf(7, 8), listOf("a")) }
            assertTrue(before.contentEquals(index.toBytes()), "failed adds changed the index")
            index.addText(keys[0], "so sunny", replace = true)
            assertEquals(keys[0], index.searchText("so sunny", 1)[0].key)
        }
    }

    @Test
    fun plainIndexTakesAnEncoder(): Unit = load(dir).use { enc ->
        Index(enc.dims).use { plain ->
            assertNull(plain.modelId)
            assertFalse(plain.hasEncoder)
            val e = assertThrows<FerrovecException.InvalidArgument> { plain.searchText("sunny") }
            assertTrue(e.message!!.contains("no text encoder"), e.message)
            plain.withEncoder(enc).use { text -> text.addTexts(keys, texts) }
            assertEquals(texts.size, plain.size, "the handles share one index")
            assertEquals(enc.modelId, plain.modelId)
        }
        assertThrows<FerrovecException.DimensionMismatch> { Index(8).withEncoder(enc) }
    }

    @Test
    fun filesKeepTheModelIdAndRefuseAnotherModel(): Unit = load(dir).use { enc ->
        load(seed2).use { other ->
            assertNotEquals(enc.modelId, other.modelId)
            val ids = listOf(hex(enc.modelId), hex(other.modelId))
            val path = Files.createTempFile("text-index", ".fvix").toFile()
            try {
                filled(enc).use { index ->
                    index.save(path.path)
                    Index.load(path.path, enc).use { loaded ->
                        assertEquals(enc.modelId, loaded.modelId)
                        assertEquals(keys[4], loaded.searchText(texts[4], 1)[0].key)
                    }
                    val mismatches = listOf(
                        assertThrows<FerrovecException.InvalidArgument> { Index.load(path.path, other) },
                        assertThrows<FerrovecException.InvalidArgument> { Index.fromBytes(index.toBytes(), other) },
                        assertThrows<FerrovecException.InvalidArgument> { Index.load(path.path).withEncoder(other) },
                    )
                    for (e in mismatches) {
                        assertTrue(e.message!!.contains("models are not comparable"), e.message)
                        ids.forEach { assertTrue(e.message!!.contains(it), e.message) }
                    }
                }
            } finally {
                path.delete()
            }
        }
    }

    @Test
    fun interpretedBackendGivesTheSameTopKeys(): Unit = load(dir).use { enc ->
        Engine.interpreted().use { engine ->
            load(dir, engine).use { wasmEnc ->
                filled(enc).use { native ->
                    filled(wasmEnc, engine).use { wasm ->
                        assertEquals(BackendKind.INTERPRETED, wasm.backend)
                        for (text in texts) {
                            assertEquals(native.searchText(text, 3)[0].key, wasm.searchText(text, 3)[0].key, text)
                        }
                        assertEquals(enc.modelId, wasm.modelId)
                        Index.fromBytes(wasm.toBytes(), enc).use { assertEquals(enc.modelId, it.modelId) }
                    }
                }
            }
        }
    }
}
