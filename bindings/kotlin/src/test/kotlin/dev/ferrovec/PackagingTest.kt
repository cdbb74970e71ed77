package dev.ferrovec

import java.io.File
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * The tests run against the library the jar ships: `linux-x86-64/libferrovec.so` on the
 * classpath (here still the unpacked target/kotlin/classes; tests/jvm-consumer covers the
 * installed jar), loaded by JNA from there, with nothing on jna.library.path.
 */
class PackagingTest {
    private val resource = "linux-x86-64/libferrovec.so"

    /** Files mapped executable into this process whose name mentions ferrovec. */
    private fun mappedFerrovecFiles(): Set<String> =
        File("/proc/self/maps").readLines()
            .map { it.trim().split(Regex("\\s+"), limit = 6) }
            .filter { it.size == 6 && 'x' in it[1] && "ferrovec" in it[5] }
            .map { it[5] }
            .toSet()

    @Test
    fun nothingOnTheLibraryPath() {
        assertNull(System.getProperty("jna.library.path"), "jna.library.path must not be set")
        assertTrue(System.getenv("LD_LIBRARY_PATH").orEmpty().split(':').none { File(it, "libferrovec.so").exists() },
            "a libferrovec.so on LD_LIBRARY_PATH would hide the packaged one")
    }

    @Test
    fun theLoadedLibraryIsTheClasspathResource() {
        val url = javaClass.classLoader.getResource(resource)
        assertNotNull(url, "$resource is not on the classpath")
        assertEquals("file", url!!.protocol, "expected the unpacked classes directory, got $url")
        val packaged = File(url.toURI()).canonicalPath
        // A real call through both ways into the library (UniFFI and the JNA fast path) loads it.
        Engine.native().use { e ->
            e.newIndex(2, IndexMetric.L2SQ).use { index ->
                index.addBatch(longArrayOf(7, 8), floatArrayOf(0f, 0f, 1f, 1f))
                assertEquals(listOf(Match(8, 0.25f)), index.search(floatArrayOf(0.5f, 1f), 1))
            }
        }
        assertEquals(setOf(packaged), mappedFerrovecFiles().map { File(it).canonicalPath }.toSet(),
            "exactly one libferrovec.so, the classpath resource, must be mapped")
        // Debug sections are stripped (the release build has them: 25 MB against 4.8 MB here).
        val size = File(packaged).length()
        assertTrue(size in 1_000_000..15_000_000, "packaged library is $size bytes")
    }
}
