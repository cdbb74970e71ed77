package dev.ferrovec

import dev.ferrovec.error.FerrovecException
import java.io.File
import java.security.MessageDigest
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource

/** Engines on every backend; the golden kernel cases (tests/golden/kernels.json) on each. */
class EngineTest {
    companion object {
        fun engine(name: String): Engine = when (name) {
            "native" -> Engine.native()
            "interpreted-simd" -> Engine.interpreted()
            "interpreted-scalar" -> Engine.interpreted(simd = false)
            else -> error(name)
        }
    }

    private fun runCase(e: Engine, case: Map<String, Any?>): List<Double> {
        val a = case["a"]
        val b = case["b"]
        return when (val op = case["op"]) {
            "dot_f32" -> listOf(e.dot(Golden.floats(a), Golden.floats(b)).toDouble())
            "cosine_distance_f32" -> listOf(e.cosineDistance(Golden.floats(a), Golden.floats(b)).toDouble())
            "l2sq_f32" -> listOf(e.l2sq(Golden.floats(a), Golden.floats(b)).toDouble())
            "dot_i8" -> listOf(e.dotI8(Golden.bytes(a), Golden.bytes(b)).toDouble())
            "l2sq_i8" -> listOf(e.l2sqI8(Golden.bytes(a), Golden.bytes(b)).toDouble())
            "hamming_b1" -> listOf(e.hamming(Golden.bytes(a), Golden.bytes(b)).toDouble())
            "jaccard_b1" -> listOf(e.jaccard(Golden.bytes(a), Golden.bytes(b)).toDouble())
            "scan_f32" -> {
                val metric = listOf(Metric.DOT, Metric.COSINE, Metric.L2SQ)[(case["metric"] as Double).toInt()]
                e.scan(Golden.floats(case["query"]), Golden.floats(case["rows"]), metric).map { it.toDouble() }
            }
            else -> error("unknown golden op $op")
        }
    }

    @ParameterizedTest
    @ValueSource(strings = ["native", "interpreted-simd", "interpreted-scalar"])
    fun everyGoldenCase(backend: String) {
        val golden = Golden.load("kernels.json") ?: error("tests/golden/kernels.json missing")
        assertEquals("ferrovec-golden-kernels", golden["format"])
        @Suppress("UNCHECKED_CAST")
        val cases = golden["cases"] as List<Map<String, Any?>>
        assertTrue(cases.size > 200)
        val failures = mutableListOf<String>()
        engine(backend).use { e ->
            for (case in cases) {
                val name = case["name"]
                val got = runCase(e, case)
                if (case["op"] == "scan_f32") {
                    if ((case["dims"] as Double) == 0.0 && (case["n_rows"] as Double) > 0) {
                        // Bytes carry no row count: with dims 0 there are no rows to send.
                        if (got.isNotEmpty()) failures += "$name: ${got.size} rows from empty input"
                        continue
                    }
                    val expected = case["expected"] as List<*>
                    val tol = case["tol"] as List<*>?
                    if (got.size != expected.size) { failures += "$name: ${got.size} rows"; continue }
                    for (i in got.indices) {
                        if (!Golden.ok(got[i], expected[i], tol?.get(i))) failures += "$name[$i]: got ${got[i]}"
                    }
                } else if (!Golden.ok(got[0], case["expected"], case["tol"])) {
                    failures += "$name: got ${got[0]}, expected ${case["expected"]}"
                }
            }
        }
        assertTrue(failures.isEmpty(), "$backend: ${failures.size} failures: ${failures.take(10)}")
    }

    @ParameterizedTest
    @ValueSource(strings = ["native", "interpreted-simd"])
    fun errorsAreTypedExceptionsAndTheEngineKeepsWorking(backend: String) {
        engine(backend).use { e ->
            val err = assertThrows<FerrovecException.DimensionMismatch> { e.dot(floatArrayOf(1f, 2f), floatArrayOf(1f)) }
            assertEquals("dimension mismatch: expected 2, got 1", err.message)
            assertThrows<FerrovecException.DimensionMismatch> { e.scan(floatArrayOf(1f, 2f), floatArrayOf(1f, 2f, 3f)) }
            assertEquals(11f, e.dot(floatArrayOf(1f, 2f), floatArrayOf(3f, 4f)))
            assertEquals(backend == "native", e.kind == BackendKind.NATIVE)
        }
    }

    @Test
    fun fuelRunsOutAndTheEngineRecovers() {
        Engine.interpreted(fuel = 20_000).use { e ->
            val big = FloatArray(200_000) { 1f }
            val err = assertThrows<FerrovecException.OutOfFuel> { e.dot(big, big) }
            assertTrue(err.message!!.contains("fuel"), err.message)
            assertEquals(11f, e.dot(floatArrayOf(1f, 2f), floatArrayOf(3f, 4f)))
        }
    }

    @Test
    fun memoryCapAndModuleChecks() {
        assertThrows<FerrovecException.OutOfMemory> { Engine.interpreted(memoryLimit = 4096) }
        Engine.interpreted(memoryLimit = 8L shl 20).use { e ->
            val big = FloatArray(4 shl 20) { 1f }
            assertThrows<FerrovecException.OutOfMemory> { e.dot(big, big) }
            assertEquals(2f, e.dot(floatArrayOf(1f), floatArrayOf(2f)))
        }
        assertThrows<FerrovecException.InvalidModule> { Engine.interpreted(module = byteArrayOf(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0)) }
        assertThrows<FerrovecException.InvalidArgument> { Engine.interpreted(fuel = 0) }
        val wasm = File(Golden.dir, "../../target/wasm/ferrovec.wasm")
        if (wasm.exists()) {
            val bytes = wasm.readBytes()
            val hex = MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }
            Engine.interpreted(module = bytes, sha256 = hex).use { assertEquals(11f, it.dot(floatArrayOf(1f, 2f), floatArrayOf(3f, 4f))) }
            assertThrows<FerrovecException.InvalidModule> { Engine.interpreted(module = bytes, sha256 = "00".repeat(32)) }
        }
    }

    @Test
    fun closedEngineThrows() {
        val e = Engine.interpreted()
        e.close()
        e.close()
        assertThrows<FerrovecException.InvalidHandle> { e.dot(floatArrayOf(1f), floatArrayOf(1f)) }
        assertEquals("Engine(closed)", e.toString())
        for (isa in Ferrovec.availableIsas()) {
            Engine.native(isa).use { assertEquals(11f, it.dot(floatArrayOf(1f, 2f), floatArrayOf(3f, 4f))) }
        }
    }
}
