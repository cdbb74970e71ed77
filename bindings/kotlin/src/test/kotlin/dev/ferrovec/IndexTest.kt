package dev.ferrovec

import dev.ferrovec.error.FerrovecException
import java.nio.file.Files
import kotlin.random.Random
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource

/** Index on the Native and Interpreted backends through the dev.ferrovec layer. */
class IndexTest {
    private val dims = 16

    private fun rows(n: Int, seed: Int, d: Int = dims): FloatArray {
        val rng = Random(seed)
        return FloatArray(n * d) { rng.nextFloat() * 2 - 1 }
    }

    private fun row(data: FloatArray, i: Int, d: Int = dims) = data.copyOfRange(i * d, (i + 1) * d)

    private fun bruteForce(data: FloatArray, keys: LongArray, q: FloatArray, k: Int, allowed: Set<Long>? = null): List<Long> {
        val d = keys.indices.filter { allowed == null || keys[it] in allowed }.map { i ->
            var s = 0.0
            for (j in 0 until dims) { val x = data[i * dims + j].toDouble() - q[j]; s += x * x }
            keys[i] to s
        }
        return d.sortedWith(compareBy({ it.second }, { it.first })).take(k).map { it.first }
    }

    private fun filled(e: Engine, n: Int = 300, hnsw: HnswConfig? = null): Triple<Index, FloatArray, LongArray> {
        val index = e.newIndex(dims, IndexMetric.L2SQ, Storage.F32, hnsw)
        val data = rows(n, 1)
        val keys = LongArray(n) { 1000L + 3 * it }
        index.addBatch(keys, data)
        return Triple(index, data, keys)
    }

    /**
     * [got] and [want] agree as one search's results on two backends. Distances are not
     * bit-identical across backends by design (each kernel table sums in its own order; see
     * core/src/kernels/mod.rs): they agree within the kernels' bound rank by rank, and a key
     * only one side has is a near-tie with the last one kept.
     */
    private fun assertMatchesAgree(want: List<List<Match>>, got: List<List<Match>>, tol: Float = 2e-5f) {
        assertEquals(want.size, got.size)
        fun close(a: Float, b: Float) = kotlin.math.abs(a - b) <= tol * maxOf(1f, kotlin.math.abs(b))
        for ((w, g) in want.zip(got)) {
            assertEquals(w.size, g.size, "$g vs $w")
            for ((wm, gm) in w.zip(g)) assertTrue(close(gm.distance, wm.distance), "$gm vs $wm")
            val byKey = w.associate { it.key to it.distance }
            for (m in g) {
                val d = byKey[m.key] ?: w.last().distance
                assertTrue(close(m.distance, d), "$m vs $w")
            }
        }
    }

    private fun state(index: Index): Triple<Int, List<List<Match>>, List<Float>> {
        val q = rows(3, 77)
        return Triple(index.size, (0 until 3).map { index.search(row(q, it), 7) }, index[1000].toList())
    }

    @ParameterizedTest
    @ValueSource(strings = ["native", "interpreted-simd"])
    fun exactSearchMatchesBruteForce(backend: String) {
        EngineTest.engine(backend).use { e ->
            val (index, data, keys) = filled(e)
            index.use {
                assertEquals(e.kind, index.backend)
                val queries = rows(10, 5)
                for (i in 0 until 10) {
                    val q = row(queries, i)
                    assertEquals(bruteForce(data, keys, q, 10), index.search(q, 10).map { it.key })
                    // The direct-buffer overload gives the same answer.
                    assertEquals(index.search(q, 10), index.search(Vectors.of(q), 10))
                }
                val allowed = keys.filterIndexed { i, _ -> i % 7 == 0 }.toLongArray()
                val q = row(queries, 0)
                assertEquals(bruteForce(data, keys, q, 5, allowed.toSet()), index.search(q, 5, allowed).map { it.key })
                assertEquals(index.search(q, 5, allowed), index.search(Vectors.of(q), 5, Vectors.ofKeys(allowed)))
                assertEquals(emptyList<Match>(), index.search(q, 5, LongArray(0)))
                val singles = (0 until 10).map { index.search(row(queries, it), 4) }
                assertEquals(singles, index.searchBatchMatches(queries, 4))
                val batch = index.searchBatch(queries, 4)
                assertEquals(10, batch.n)
                assertEquals(4, batch.k)
                assertEquals(40, batch.keys.size)
                assertEquals(40, batch.distances.size)
                assertEquals(singles, batch.toMatches())
                for (i in 0 until 10) {
                    assertEquals(singles[i].map { it.key }, batch.keys.copyOfRange(4 * i, 4 * i + 4).toList())
                    assertEquals(singles[i].map { it.distance.toBits() }, (0 until 4).map { batch.distance(i, it).toBits() })
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = ["native", "interpreted-simd"])
    fun searchBatchPadsWhenFewerThanKAndSkipsDeletedKeys(backend: String) {
        EngineTest.engine(backend).use { e ->
            e.newIndex(dims, IndexMetric.L2SQ, Storage.F32, HnswConfig()).use { index ->
                val data = rows(3, 5)
                index.addBatch(longArrayOf(10, 20, 30), data)
                index.remove(20)
                val batch = index.searchBatch(data, 4)
                assertEquals(3, batch.n)
                assertArrayEquals(intArrayOf(2, 2, 2), batch.counts)
                for (i in 0 until 3) {
                    assertEquals(setOf(10L, 30L), setOf(batch.key(i, 0), batch.key(i, 1)))
                    for (c in 2 until 4) {
                        assertEquals(BatchMatches.NO_KEY, batch.key(i, c))
                        assertEquals(Float.POSITIVE_INFINITY, batch.distance(i, c))
                    }
                    assertEquals(index.search(row(data, i), 4), batch.matches(i))
                }
                assertEquals(10L, batch.key(0, 0))
                assertEquals(30L, batch.key(2, 0))
            }
            e.newIndex(dims, IndexMetric.L2SQ, Storage.F32, null).use { empty ->
                val batch = empty.searchBatch(rows(2, 6), 3)
                assertArrayEquals(LongArray(6) { -1L }, batch.keys)
                assertArrayEquals(intArrayOf(0, 0), batch.counts)
                assertThrows<FerrovecException.InvalidArgument> { empty.searchBatch(rows(2, 6), 0) }
            }
        }
    }

    @Test
    fun searchBatchArraysAgreeAcrossBackends() {
        val native = Engine.native()
        val interp = Engine.interpreted()
        val (index, _, _) = filled(native, hnsw = HnswConfig())
        val queries = rows(9, 11)
        val want = index.searchBatch(queries, 6)
        Index.fromBytes(index.toBytes(), interp).use { other ->
            val got = other.searchBatch(queries, 6)
            assertArrayEquals(IntArray(9) { 6 }, got.counts)
            assertMatchesAgree(want.toMatches(), got.toMatches())
            assertEquals(other.searchBatchMatches(queries, 6), got.toMatches())
        }
        index.close()
        interp.close()
        native.close()
    }

    @ParameterizedTest
    @ValueSource(strings = ["native", "interpreted-simd"])
    fun hnswRecallAgainstExact(backend: String) {
        EngineTest.engine(backend).use { e ->
            val (index, data, keys) = filled(e, n = 1500, hnsw = HnswConfig(m = 12u, seed = 7u))
            index.use {
                assertEquals(12u, index.config.hnsw!!.m)
                val queries = rows(30, 9)
                var hits = 0
                for (i in 0 until 30) {
                    val q = row(queries, i)
                    hits += index.search(q, 10).map { it.key }.intersect(bruteForce(data, keys, q, 10).toSet()).size
                }
                assertTrue(hits / 300.0 >= 0.9, "recall ${hits / 300.0}")
                index.setEfSearch(200)
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = ["native", "interpreted-simd"])
    fun writersAndErrorsLeaveTheIndexUnchanged(backend: String) {
        EngineTest.engine(backend).use { e ->
            val (index, data, keys) = filled(e, n = 60, hnsw = HnswConfig())
            index.use {
                val before = state(index)
                assertThrows<FerrovecException.DimensionMismatch> { index.add(1, FloatArray(dims - 1)) }
                assertThrows<FerrovecException.InvalidArgument> { index.add(1, FloatArray(dims) { Float.NaN }) }
                val dup = assertThrows<FerrovecException.DuplicateKey> { index.addBatch(longArrayOf(1, 2, keys[0]), rows(3, 4)) }
                assertTrue(dup.message!!.contains(keys[0].toString()), dup.message)
                assertThrows<FerrovecException.DimensionMismatch> { index.addBatch(longArrayOf(1, 2), rows(1, 4)) }
                assertThrows<FerrovecException.InvalidArgument> { index.search(row(data, 0), 0) }
                assertThrows<FerrovecException.KeyNotFound> { index.remove(5) }
                assertThrows<FerrovecException.KeyNotFound> { index[5] }
                assertEquals(before, state(index))

                assertArrayEquals(row(data, 3), index[keys[3]])
                index.add(keys[3], row(data, 0), replace = true)
                assertArrayEquals(row(data, 0), index[keys[3]])
                index.remove(keys[4])
                assertFalse(keys[4] in index)
                assertTrue(keys[5] in index)
                index.compact()
                assertEquals(59, index.size)
                assertEquals(59, index.search(row(data, 4), 1000).size)
                index.reserve(1000)
                assertTrue(index.capacity >= 1059)
                index.clear()
                assertTrue(index.isEmpty())
            }
            assertThrows<FerrovecException.InvalidArgument> { e.newIndex(dims, IndexMetric.HAMMING, Storage.F32) }
            assertThrows<FerrovecException.InvalidArgument> { e.newIndex(dims).use { it.setEfSearch(10) } }
            e.newIndex(dims, IndexMetric.HAMMING, Storage.B1).use { b1 ->
                val data = rows(50, 2)
                b1.addBatch(LongArray(50) { it.toLong() }, data)
                assertEquals(Match(17, 0f), b1.search(row(data, 17), 1)[0])
            }
        }
    }

    /**
     * F16 / BF16: values come back rounded to nearest even, searches rank the rounded rows, an
     * out-of-range value throws InvalidArgument naming the storage and adds nothing, and the
     * bytes (file format version 3) load on both backends and save back the same.
     */
    @ParameterizedTest
    @ValueSource(strings = ["native", "interpreted-simd"])
    fun halfStoragesRoundRefuseOutOfRangeAndRoundTrip(backend: String) {
        // 1 + 2^-11 and 1 + 3 * 2^-11 are halfway between f16 neighbours (ties to even: 1 and
        // 1 + 2^-9); bf16 keeps 8 significant bits.
        val input = floatArrayOf(1.00048828125f, 1.00146484375f, 300.7f, -0.5f)
        val cases = listOf(
            Triple(Storage.F16, floatArrayOf(1f, 1.001953125f, 300.75f, -0.5f), 65520f),
            Triple(Storage.BF16, floatArrayOf(1f, 1f, 300f, -0.5f), 3.4e38f),
        )
        val others = listOf(Engine.native(), Engine.interpreted())
        EngineTest.engine(backend).use { e ->
            for ((storage, stored, big) in cases) {
                val name = storage.name.lowercase()
                e.newIndex(4, IndexMetric.L2SQ, storage).use { index ->
                    index.add(1, input)
                    index.add(2, floatArrayOf(0f, 2f, -4f, 8f))
                    assertEquals(storage, index.config.storage)
                    assertArrayEquals(stored, index[1], name)
                    val query = floatArrayOf(1f, 1f, 300f, -0.5f)
                    val hit = index.search(query, 1)[0]
                    assertEquals(1L, hit.key)
                    // The distance is over the stored row.
                    val want = stored.indices.sumOf { ((stored[it] - query[it]) * (stored[it] - query[it])).toDouble() }
                    assertEquals(want, hit.distance.toDouble(), 1e-6, name)
                    val err = assertThrows<FerrovecException.InvalidArgument> {
                        index.addBatch(longArrayOf(3, 4), input + floatArrayOf(0f, big, 0f, 0f))
                    }
                    assertTrue(err.message!!.contains("out of $name range"), err.message)
                    assertEquals(2, index.size)
                    assertFalse(3L in index)
                    val bytes = index.toBytes()
                    assertEquals(3, bytes[4].toInt(), "file format version")
                    for (other in others) {
                        Index.fromBytes(bytes, other).use { loaded ->
                            assertArrayEquals(stored, loaded[1], name)
                            assertArrayEquals(bytes, loaded.toBytes())
                        }
                    }
                }
            }
        }
        others.forEach { it.close() }
    }

    @Test
    fun saveAndLoadAcrossBackends() {
        val native = Engine.native()
        val interp = Engine.interpreted()
        val queries = rows(5, 8)
        val (index, _, _) = filled(native, hnsw = HnswConfig())
        val want = index.searchBatchMatches(queries, 5)
        val blob = index.toBytes()
        assertEquals("FVIX", String(blob.copyOfRange(0, 4)))
        for (e in listOf(native, interp)) {
            Index.fromBytes(blob, e).use { loaded ->
                assertEquals(e.kind, loaded.backend)
                val got = loaded.searchBatchMatches(queries, 5)
                // Same backend, same kernels: the same bits. Across backends: the contract.
                if (e === native) assertEquals(want, got) else assertMatchesAgree(want, got)
                assertArrayEquals(blob, loaded.toBytes())
            }
        }
        val dir = Files.createTempDirectory("ferrovec-kotlin")
        val path = dir.resolve("index.fvix").toString()
        index.save(path)
        Index.load(path, native).use { assertEquals(want, it.searchBatchMatches(queries, 5)) }
        Index.load(path, interp).use { assertMatchesAgree(want, it.searchBatchMatches(queries, 5)) }
        assertThrows<FerrovecException.CorruptFile> { Index.fromBytes(blob.copyOf(blob.size - 1)) }
        val flipped = blob.copyOf().also { it[it.size / 2] = (it[it.size / 2].toInt() xor 0x40).toByte() }
        assertThrows<FerrovecException.CorruptFile> { Index.fromBytes(flipped, interp) }
        assertThrows<FerrovecException.InvalidArgument> { Index.load(dir.resolve("missing/x.fvix").toString()) }
        dir.toFile().deleteRecursively()
        index.close()
        interp.close()
        native.close()
    }

    @Test
    fun closeAndEngineLifetime() {
        val index = Index(4, IndexMetric.L2SQ)
        index.use { it.add(1, floatArrayOf(1f, 2f, 3f, 4f)) }
        assertTrue(index.isClosed)
        assertThrows<FerrovecException.InvalidHandle> { index.search(floatArrayOf(1f, 2f, 3f, 4f), 1) }
        val engine = Engine.interpreted()
        val survivor = engine.newIndex(2)
        engine.close()
        survivor.use {
            it.add(9, floatArrayOf(1f, 0f))
            assertEquals(9L, it.search(floatArrayOf(1f, 0f), 1)[0].key)
        }
        assertThrows<FerrovecException.InvalidHandle> { engine.newIndex(2) }
    }

    @Test
    fun concurrentSearchesWhileAdding() {
        Index(dims, IndexMetric.L2SQ, hnsw = HnswConfig()).use { index ->
            index.addBatch(LongArray(500) { it.toLong() }, rows(500, 1))
            val errors = java.util.concurrent.ConcurrentLinkedQueue<Throwable>()
            val threads = (0 until 3).map { t ->
                Thread {
                    try {
                        val q = rows(50, 100 + t)
                        for (i in 0 until 50) {
                            val found = index.search(row(q, i), 5)
                            check(found.size == 5 && found.all { it.key in 0 until 1000 })
                        }
                    } catch (err: Throwable) { errors.add(err) }
                }.also { it.start() }
            }
            val extra = rows(500, 2)
            for (i in 0 until 500) index.add(500L + i, row(extra, i))
            threads.forEach { it.join() }
            assertTrue(errors.isEmpty(), errors.toString())
            assertEquals(1000, index.size)
        }
    }
}
