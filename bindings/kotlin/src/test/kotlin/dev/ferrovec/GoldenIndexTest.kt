package dev.ferrovec

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource

/**
 * tests/golden/index.json (the shared index cases): exact search gives exactly the expected
 * keys (distances within tol) after the inserts and removals, and HNSW reaches the case's
 * recall, on both backends. Skipped (reported) while the file is absent.
 */
class GoldenIndexTest {
    @Suppress("UNCHECKED_CAST")
    @ParameterizedTest
    @ValueSource(strings = ["native", "interpreted-simd"])
    fun goldenIndexCases(backend: String) {
        val golden = Golden.load("index.json")
        assumeTrue(golden != null, "tests/golden/index.json not present yet")
        assertEquals("ferrovec-golden-index", golden!!["format"])
        val cases = golden["cases"] as List<Map<String, Any?>>
        assertTrue(cases.isNotEmpty())
        EngineTest.engine(backend).use { engine ->
            for (c in cases) {
                val name = c["name"] as String
                val dims = (c["dims"] as Double).toInt()
                val k = (c["k"] as Double).toInt()
                val tol = c["tol"] as Double
                val keys = (c["keys"] as List<*>).map { (it as Double).toLong() }.toLongArray()
                val vectors = Golden.floats(c["vectors"])
                val queries = Golden.floats(c["queries"])
                val expected = c["expected"] as List<Map<String, Any?>>
                val removed = (c["removed"] as List<*>).map { (it as Double).toLong() }
                val metric = IndexMetric.entries[(c["metric"] as Double).toInt()]
                val storage = Storage.entries[(c["storage"] as Double).toInt()]
                val h = c["hnsw"] as Map<String, Any?>
                val hnsw = HnswConfig(
                    (h["m"] as Double).toUInt(), (h["ef_construction"] as Double).toUInt(),
                    (h["ef_search"] as Double).toUInt(), (h["seed"] as Double).toULong(),
                )
                for (config in listOf<HnswConfig?>(null, hnsw)) {
                    engine.newIndex(dims, metric, storage, config).use { index ->
                        index.addBatch(keys, vectors)
                        removed.forEach { index.remove(it) }
                        assertEquals(keys.size - removed.size, index.size, name)
                        var found = 0
                        for ((i, want) in expected.withIndex()) {
                            val got = index.search(queries.copyOfRange(i * dims, (i + 1) * dims), k)
                            val wantKeys = (want["keys"] as List<*>).map { (it as Double).toLong() }
                            if (config == null) {
                                assertEquals(wantKeys, got.map { it.key }, "$name query $i")
                                val wantDist = want["distances"] as List<*>
                                for ((j, m) in got.withIndex()) {
                                    assertTrue(Math.abs(m.distance - (wantDist[j] as Double)) <= tol + 1e-12, "$name query $i: ${m.distance}")
                                }
                            }
                            found += got.count { it.key in wantKeys }
                        }
                        if (config != null) {
                            val recall = found.toDouble() / (k * expected.size)
                            assertTrue(recall >= (c["min_hnsw_recall"] as Double), "$name: HNSW recall $recall")
                        }
                    }
                }
            }
        }
    }
}
